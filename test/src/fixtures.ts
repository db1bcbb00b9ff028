import { randomUUID } from 'node:crypto';
import { base32Decode, codeIn, currentStep, mailsTo, minimalPdf, systemClock, totpCode } from '@numezis/runtime';
import { dataOf, graphql } from './client.ts';
import type { Caller, GraphQLResult } from './client.ts';

/** Where the graph is and where its mail lands: enough to act as any new person. */
export interface Graph {
  readonly gatewayUrl: string;
  readonly outboxDir: string;
}

export interface Person extends Caller {
  readonly email: string;
  readonly password: string;
  readonly userId: string;
}

export interface Workspace extends Person {
  readonly workspaceId: string;
  readonly name: string;
}

export const testPassword = 'correct horse battery staple';

export function cookieFrom(result: GraphQLResult<unknown>): string {
  const cookie = result.setCookie?.split(';')[0];
  if (cookie === undefined || cookie.endsWith('=')) throw new Error(`no session cookie in ${result.text}`);
  return cookie;
}

export async function latestCode(graph: Graph, email: string): Promise<string> {
  return codeIn((await mailsTo(graph.outboxDir, email)).at(-1));
}

export async function signIn(
  graph: Graph,
  email: string,
  password = testPassword,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<unknown>> {
  return graphql(graph.gatewayUrl, 'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }', {
    variables: { input: { email, password } },
    headers,
  });
}

/** A new person, signed up through the API, confirmed through the mail, and signed in. */
export async function signUp(graph: Graph, displayName = 'Test Person'): Promise<Person> {
  const email = `${randomUUID()}@example.ch`;
  dataOf(
    await graphql(graph.gatewayUrl, 'mutation ($input: SignUpInput!) { signUp(input: $input) }', {
      variables: { input: { email, password: testPassword, displayName } },
    }),
  );
  dataOf(
    await graphql(graph.gatewayUrl, 'mutation ($token: String!) { verifyEmail(token: $token) }', {
      variables: { token: await latestCode(graph, email) },
    }),
  );
  const cookie = cookieFrom(await signIn(graph, email));
  const { me } = dataOf(
    await graphql<{ me: { user: { id: string } } }>(graph.gatewayUrl, '{ me { user { id } } }', { as: { cookie } }),
  );
  return { email, password: testPassword, cookie, userId: me.user.id };
}

let counter = 0;

/** Each test makes its own workspace, owned by a new Admin; nothing is shared between tests. */
export async function createWorkspace(graph: Graph, name = `Test AG ${++counter}`): Promise<Workspace> {
  const owner = await signUp(graph, `Owner of ${name}`);
  const { createWorkspace } = dataOf(
    await graphql<{ createWorkspace: { id: string } }>(
      graph.gatewayUrl,
      'mutation ($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }',
      { as: owner, variables: { input: { name } } },
    ),
  );
  return { ...owner, name, workspaceId: createWorkspace.id };
}

/** Invites a new person with `role` and has them accept: a member acting in the workspace. */
export async function addMember(graph: Graph, admin: Workspace, role: string): Promise<Workspace> {
  const person = await signUp(graph, `${role} of ${admin.name}`);
  dataOf(
    await graphql(graph.gatewayUrl, 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }', {
      as: admin,
      variables: { input: { email: person.email, role } },
    }),
  );
  dataOf(
    await graphql(graph.gatewayUrl, 'mutation ($token: String!) { acceptInvitation(token: $token) { id } }', {
      as: person,
      variables: { token: await latestCode(graph, person.email) },
    }),
  );
  return { ...person, name: admin.name, workspaceId: admin.workspaceId };
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

/** A structured Swiss postal address, as contacts and employees need one. */
export const sampleAddress = {
  street: 'Bahnhofstrasse',
  buildingNumber: '1',
  postcode: '8001',
  town: 'Zürich',
  country: 'CH',
} as const;

export async function createContact(
  gatewayUrl: string,
  as: Caller,
  input: { name: string; kind?: 'CUSTOMER' | 'SUPPLIER'; iban?: string; email?: string },
): Promise<string> {
  return dataOf(
    await graphql<{ createContact: { id: string } }>(
      gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      { as, variables: { input: { kind: 'SUPPLIER', address: sampleAddress, ...input } } },
    ),
  ).createContact.id;
}

export async function createEmployee(
  gatewayUrl: string,
  as: Caller,
  input: { name: string; ahvNumber?: string },
): Promise<string> {
  return dataOf(
    await graphql<{ createEmployee: { id: string } }>(
      gatewayUrl,
      'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
      { as, variables: { input: { address: sampleAddress, ...input } } },
    ),
  ).createEmployee.id;
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
  const { id: documentId } = await uploadDocument(gatewayUrl, as, {
    fileName: 'rechnung-42.pdf',
    content: minimalPdf('Rechnung 42'),
    journalEntryId: entryId,
  });
  return { entryId, documentId };
}

export { minimalPdf };

export interface UploadedDocument {
  readonly id: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly sha256: string;
  readonly journalEntryId: string | null;
}

/** A document uploaded as a client does: createDocumentUpload, then PUT the bytes to its URL. */
export async function uploadDocument(
  gatewayUrl: string,
  as: Caller,
  file: { fileName: string; content: Buffer; journalEntryId?: string },
): Promise<UploadedDocument> {
  const { createDocumentUpload } = dataOf(
    await graphql<{ createDocumentUpload: { uploadUrl: string } }>(
      gatewayUrl,
      'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl } }',
      { as, variables: { input: { fileName: file.fileName, journalEntryId: file.journalEntryId ?? null } } },
    ),
  );
  const response = await fetch(new URL(createDocumentUpload.uploadUrl, gatewayUrl), {
    method: 'PUT',
    headers: { cookie: as.cookie, 'content-type': 'application/pdf' },
    body: file.content,
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`upload failed with ${response.status}: ${text}`);
  return (JSON.parse(text) as { document: UploadedDocument }).document;
}

/**
 * A partner API key of the workspace with `role`: the Admin first enrols TOTP (creating a key needs a
 * recent second factor). Returns the key's secret and id, and the Admin with its new session.
 */
export async function createApiKey(
  graph: Graph,
  admin: Workspace,
  role = 'VIEWER',
): Promise<{ secret: string; id: string; admin: Workspace & { totpSecret: string } }> {
  const verified = await enrolTotp(graph, admin);
  const { createApiKey: created } = dataOf(
    await graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      graph.gatewayUrl,
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { as: verified, variables: { input: { name: 'Partner', role } } },
    ),
  );
  return { secret: created.secret, id: created.apiKey.id, admin: verified };
}

/** Enrols TOTP for a person: confirming counts as an MFA step, so the returned cookie is freshly verified. */
export async function enrolTotp<Someone extends Person>(
  graph: Graph,
  person: Someone,
): Promise<Someone & { totpSecret: string }> {
  const { beginTotpEnrolment } = dataOf(
    await graphql<{ beginTotpEnrolment: { secret: string } }>(
      graph.gatewayUrl,
      'mutation { beginTotpEnrolment { secret } }',
      {
        as: person,
      },
    ),
  );
  const confirmed = await graphql(graph.gatewayUrl, 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', {
    as: person,
    variables: { code: totpCode(base32Decode(beginTotpEnrolment.secret), currentStep(systemClock)) },
  });
  dataOf(confirmed);
  return { ...person, cookie: cookieFrom(confirmed), totpSecret: beginTotpEnrolment.secret };
}
