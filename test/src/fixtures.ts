import { dataOf, graphql } from './client.ts';
import type { Caller } from './client.ts';

export interface Workspace extends Required<Caller> {
  readonly name: string;
}

let counter = 0;

/** Each test makes its own workspace through the API; nothing is shared between tests. */
export async function createWorkspace(gatewayUrl: string, name = `Test AG ${++counter}`): Promise<Workspace> {
  const { createWorkspace } = dataOf(
    await graphql<{ createWorkspace: { workspace: { id: string }; owner: { id: string } } }>(
      gatewayUrl,
      'mutation ($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { workspace { id } owner { id } } }',
      { variables: { input: { name, ownerDisplayName: `Owner of ${name}` } } },
    ),
  );
  return { name, workspaceId: createWorkspace.workspace.id, userId: createWorkspace.owner.id };
}

export async function createAccount(gatewayUrl: string, as: Caller, number: string, type = 'ASSET'): Promise<string> {
  return dataOf(
    await graphql<{ createAccount: { id: string } }>(
      gatewayUrl,
      'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }',
      { as, variables: { input: { number, name: `Account ${number}`, type } } },
    ),
  ).createAccount.id;
}

/** A posting with its receipt: data in accounting and documents, authored by the caller. */
export async function postEntryWithReceipt(
  gatewayUrl: string,
  as: Caller,
): Promise<{ entryId: string; documentId: string }> {
  const debit = await createAccount(gatewayUrl, as, '1020');
  const credit = await createAccount(gatewayUrl, as, '3200', 'REVENUE');
  const entryId = dataOf(
    await graphql<{ postJournalEntry: { id: string } }>(
      gatewayUrl,
      'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
      {
        as,
        variables: {
          input: {
            bookingDate: '2026-03-31',
            description: 'Rechnung 42',
            amount: '1250.50',
            debitAccountId: debit,
            creditAccountId: credit,
          },
        },
      },
    ),
  ).postJournalEntry.id;
  const documentId = dataOf(
    await graphql<{ registerDocument: { id: string } }>(
      gatewayUrl,
      'mutation ($input: RegisterDocumentInput!) { registerDocument(input: $input) { id } }',
      {
        as,
        variables: { input: { fileName: 'rechnung-42.pdf', contentType: 'application/pdf', journalEntryId: entryId } },
      },
    ),
  ).registerDocument.id;
  return { entryId, documentId };
}
