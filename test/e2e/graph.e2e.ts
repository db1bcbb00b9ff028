import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awaitAuditEvents } from '../src/audit-trail.ts';
import { dataOf, graphql } from '../src/client.ts';
import { createWorkspace, postEntryWithReceipt } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

interface GraphData {
  workspace: { auditLog: { eventCount: number } };
  auditEvents: { id: string }[];
}

const stack = sharedStack();
const { gatewayUrl } = stack;

const acrossAllSubgraphs = `{
  workspace { id name members { user { displayName } role } auditLog { eventCount } }
  journalEntries {
    id amount currency description
    debitAccount { number } creditAccount { number }
    author { id displayName }
    documents { id fileName journalEntry { id } }
  }
  auditEvents { id }
}`;

describe('the federated graph through the gateway', () => {
  it('answers one query with data from identity, accounting, documents and audit', async () => {
    const workspace = await createWorkspace(stack, 'Muster Bäckerei GmbH');
    const { entryId, documentId } = await postEntryWithReceipt(gatewayUrl, workspace);
    // The audit subgraph's part arrives through the services' outboxes: wait for the last change.
    const recorded = await awaitAuditEvents(gatewayUrl, workspace, (seen) =>
      ['workspace.created', 'ledger.entry_posted', 'document.uploaded'].every((action) =>
        seen.some((event) => event.action === action),
      ),
    );

    const result = await graphql<GraphData>(gatewayUrl, acrossAllSubgraphs, { as: workspace });
    assert.equal(result.status, 200);
    const { auditEvents, ...data } = dataOf(result);
    assert.equal(data.workspace.auditLog.eventCount, auditEvents.length);
    const listed = new Set(auditEvents.map((event) => event.id));
    for (const event of recorded) assert.ok(listed.has(event.id), event.action);
    assert.deepEqual(data, {
      workspace: {
        id: workspace.workspaceId,
        name: 'Muster Bäckerei GmbH',
        members: [{ user: { displayName: 'Owner of Muster Bäckerei GmbH' }, role: 'ADMIN' }],
        auditLog: { eventCount: auditEvents.length },
      },
      journalEntries: [
        {
          id: entryId,
          amount: '1250.50',
          currency: 'CHF',
          description: 'Rechnung 42',
          debitAccount: { number: '1020' },
          creditAccount: { number: '3200' },
          author: { id: workspace.userId, displayName: 'Owner of Muster Bäckerei GmbH' },
          documents: [{ id: documentId, fileName: 'rechnung-42.pdf', journalEntry: { id: entryId } }],
        },
      ],
    });
  });

  it("never shows one workspace another workspace's data", async () => {
    const alpha = await createWorkspace(stack);
    const beta = await createWorkspace(stack);
    const { entryId, documentId } = await postEntryWithReceipt(gatewayUrl, alpha);

    const asBeta = await graphql<Record<string, unknown>>(
      gatewayUrl,
      `
        query ($entry: ID!, $document: ID!) {
          journalEntries {
            id
          }
          journalEntry(id: $entry) {
            id
          }
          document(id: $document) {
            id
          }
          workspace {
            members {
              user {
                id
              }
            }
          }
        }
      `,
      { as: beta, variables: { entry: entryId, document: documentId } },
    );
    assert.deepEqual(dataOf(asBeta), {
      journalEntries: [],
      journalEntry: null,
      document: null,
      workspace: { members: [{ user: { id: beta.userId } }] },
    });
  });

  it('refuses workspace data to a caller who is not signed in', async () => {
    const result = await graphql(gatewayUrl, '{ journalEntries { id } }');
    assert.deepEqual(result.body.data, { journalEntries: null });
    assert.equal(result.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('answers invalid input with a typed error that names the field', async () => {
    const workspace = await createWorkspace(stack);
    const result = await graphql(
      gatewayUrl,
      'mutation { createAccount(input: { number: "12ab", name: "Kasse", type: ASSET }) { id } }',
      { as: workspace },
    );
    assert.equal(result.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(result.body.errors?.[0]?.extensions?.field, 'number');
  });

  it('refuses a posting against an account of another workspace as not found', async () => {
    const alpha = await createWorkspace(stack);
    const beta = await createWorkspace(stack);
    const { entryId } = await postEntryWithReceipt(gatewayUrl, alpha);
    const alphaAccounts = dataOf(
      await graphql<{ journalEntry: { debitAccount: { id: string }; creditAccount: { id: string } } }>(
        gatewayUrl,
        'query ($id: ID!) { journalEntry(id: $id) { debitAccount { id } creditAccount { id } } }',
        { as: alpha, variables: { id: entryId } },
      ),
    ).journalEntry;
    const result = await graphql(
      gatewayUrl,
      'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
      {
        as: beta,
        variables: {
          input: {
            bookingDate: '2026-04-01',
            description: 'Versuch',
            amount: '10.00',
            debitAccountId: alphaAccounts.debitAccount.id,
            creditAccountId: alphaAccounts.creditAccount.id,
          },
        },
      },
    );
    assert.equal(result.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.deepEqual(dataOf(await graphql(gatewayUrl, '{ journalEntries { id } }', { as: beta })), {
      journalEntries: [],
    });
  });
});
