import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fieldPolicy, rolePermissions, roles } from '@numezis/runtime';
import type { Operation, Permission, Role, WorkspaceOperation } from '@numezis/runtime';
import { graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { addMember, createAccount, createWorkspace, postEntryWithReceipt, sampleAddress } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();

interface Fixture {
  readonly entryId: string;
  readonly documentId: string;
  readonly debit: string;
  readonly credit: string;
}

type Sample = (fixture: Fixture) => { query: string; variables?: Record<string, unknown> };

let accountNumber = 4000;
/** One invocation per workspace operation; the type makes a missing operation a compile error. */
const samples: Record<WorkspaceOperation, Sample> = {
  'Query.workspace': () => ({ query: '{ workspace { id } }' }),
  'Query.accounts': () => ({ query: '{ accounts { id } }' }),
  'Query.journalEntries': () => ({ query: '{ journalEntries { id } }' }),
  'Query.journalEntry': (f) => ({
    query: 'query ($id: ID!) { journalEntry(id: $id) { id } }',
    variables: { id: f.entryId },
  }),
  'Query.document': (f) => ({
    query: 'query ($id: ID!) { document(id: $id) { id } }',
    variables: { id: f.documentId },
  }),
  'Query.documents': () => ({ query: '{ documents { id } }' }),
  'Query.auditEvents': () => ({ query: '{ auditEvents { id } }' }),
  'Query.verifyAuditChain': () => ({ query: '{ verifyAuditChain { valid } }' }),
  // Over HTTP the decision is the same as over the socket; only the socket runs it.
  'Subscription.auditEvents': () => ({ query: 'subscription { auditEvents { id } }' }),
  'Mutation.inviteMember': () => ({
    query: 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
    variables: { input: { email: `${randomUUID()}@example.ch`, role: 'VIEWER' } },
  }),
  'Mutation.setMfaRequired': () => ({ query: 'mutation { setMfaRequired(required: false) { id } }' }),
  'Mutation.setMemberRole': () => ({ query: `mutation { setMemberRole(userId: "${randomUUID()}", role: VIEWER) }` }),
  'Mutation.linkFiduciary': () => ({
    query: `mutation { linkFiduciary(fiduciaryWorkspaceId: "${randomUUID()}", role: VIEWER) }`,
  }),
  'Mutation.unlinkFiduciary': () => ({
    query: `mutation { unlinkFiduciary(fiduciaryWorkspaceId: "${randomUUID()}") }`,
  }),
  'Mutation.createCustomRole': () => ({
    query: 'mutation ($input: CreateCustomRoleInput!) { createCustomRole(input: $input) { id } }',
    variables: { input: { name: `Matrix ${randomUUID()}`, baseRole: 'VIEWER' } },
  }),
  'Mutation.assignCustomRole': () => ({
    query: `mutation { assignCustomRole(userId: "${randomUUID()}", customRoleId: "${randomUUID()}") }`,
  }),
  'Mutation.removeMember': () => ({ query: `mutation { removeMember(userId: "${randomUUID()}") }` }),
  'Mutation.revokeMemberSessions': () => ({ query: `mutation { revokeMemberSessions(userId: "${randomUUID()}") }` }),
  'Query.apiKeys': () => ({ query: '{ apiKeys { id } }' }),
  'Mutation.createApiKey': () => ({
    query: 'mutation { createApiKey(input: { name: "Matrix", role: VIEWER }) { secret } }',
  }),
  'Mutation.revokeApiKey': () => ({ query: `mutation { revokeApiKey(id: "${randomUUID()}") }` }),
  'Mutation.createAccount': () => ({
    query: 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }',
    variables: { input: { number: String(++accountNumber), name: 'Matrix', type: 'EXPENSE' } },
  }),
  'Mutation.postJournalEntry': (f) => ({
    query: 'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
    variables: {
      input: {
        bookingDate: '2026-05-01',
        description: 'Matrix',
        amount: '1.00',
        debitAccountId: f.debit,
        creditAccountId: f.credit,
      },
    },
  }),
  'Query.contacts': () => ({ query: '{ contacts(search: "AG") { id } }' }),
  'Query.contact': () => ({ query: `{ contact(id: "${randomUUID()}") { id } }` }),
  'Query.contactByIban': () => ({ query: '{ contactByIban(iban: "CH93 0076 2011 6238 5295 7") { id } }' }),
  'Mutation.createContact': () => ({
    query: 'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
    variables: { input: { kind: 'CUSTOMER', name: 'Matrix AG', address: sampleAddress } },
  }),
  'Mutation.updateContact': () => ({
    query: `mutation { updateContact(id: "${randomUUID()}", input: { name: "Matrix GmbH" }) { id } }`,
  }),
  'Query.sensitiveReads': () => ({ query: '{ sensitiveReads { id } }' }),
  'Query.employees': () => ({ query: '{ employees { id } }' }),
  'Query.employee': () => ({ query: `{ employee(id: "${randomUUID()}") { id } }` }),
  'Mutation.createEmployee': () => ({
    query: 'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
    variables: { input: { name: 'Matrix Person', address: sampleAddress } },
  }),
  'Mutation.updateEmployee': () => ({
    query: `mutation { updateEmployee(id: "${randomUUID()}", input: { name: "Matrix Person" }) { id } }`,
  }),
  'Mutation.createDocumentUpload': () => ({
    query: 'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl } }',
    variables: { input: { fileName: 'matrix.pdf' } },
  }),
  'Mutation.createDocumentDownload': (f) => ({
    query: 'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }',
    variables: { id: f.documentId },
  }),
  'Mutation.attachDocument': (f) => ({
    query: 'mutation ($id: ID!, $entry: ID!) { attachDocument(id: $id, journalEntryId: $entry) { id } }',
    variables: { id: f.documentId, entry: f.entryId },
  }),
  'Mutation.deleteDocument': () => ({ query: `mutation { deleteDocument(id: "${randomUUID()}") }` }),
};

const operations = Object.keys(fieldPolicy).filter((coordinate): coordinate is Operation =>
  /^(Query|Mutation|Subscription)\./.test(coordinate),
);
const isWorkspaceOperation = (operation: Operation): operation is WorkspaceOperation =>
  fieldPolicy[operation].scope === 'tenant';
const permissionFor = (operation: WorkspaceOperation): Permission | undefined =>
  (fieldPolicy[operation] as { permission?: Permission }).permission;

describe('role × operation matrix, from the policy source', () => {
  const members = new Map<Role, Caller>();
  let fixture: Fixture;

  before(async () => {
    const admin: Workspace = await createWorkspace(stack, 'Matrix AG');
    members.set('ADMIN', admin);
    for (const role of roles.filter((candidate) => candidate !== 'ADMIN')) {
      members.set(role, await addMember(stack, admin, role));
    }
    const posted = await postEntryWithReceipt(stack.gatewayUrl, admin);
    fixture = {
      ...posted,
      debit: await createAccount(stack.gatewayUrl, admin, '1000'),
      credit: await createAccount(stack.gatewayUrl, admin, '1010'),
    };
  });

  it('has a sample for every workspace operation of the registry', () => {
    assert.deepEqual(operations.filter(isWorkspaceOperation).sort(), Object.keys(samples).sort());
  });

  for (const role of roles) {
    it(`${role} gets exactly what its permissions say`, async () => {
      const caller = members.get(role);
      assert.ok(caller);
      for (const [operation, sample] of Object.entries(samples) as [WorkspaceOperation, Sample][]) {
        const { query, variables } = sample(fixture);
        const result: GraphQLResult = await graphql(stack.gatewayUrl, query, {
          as: caller,
          ...(variables === undefined ? {} : { variables }),
        });
        // The role decision is a FORBIDDEN that names the missing permission; what an allowed call
        // meets afterwards (an unknown id, a required MFA step-up) is another test's business.
        const refusedFor: unknown[] = (result.body.errors ?? [])
          .filter((error) => error.extensions?.code === 'FORBIDDEN' && error.extensions.permission !== undefined)
          .map((error) => error.extensions?.permission);
        const required = permissionFor(operation);
        const allowed = required === undefined || (rolePermissions[role] as readonly string[]).includes(required);
        assert.deepEqual(refusedFor, allowed ? [] : [required], `${role} × ${operation}: ${result.text}`);
      }
    });
  }

  it('refuses every operation that needs a signed-in person to an anonymous caller', async () => {
    const signedIn = operations.filter((operation) => fieldPolicy[operation].scope !== 'public');
    const anonymousSamples: Partial<Record<Operation, string>> = {
      'Mutation.revokeSession': `mutation { revokeSession(id: "${randomUUID()}") }`,
      'Mutation.createWorkspace': 'mutation { createWorkspace(input: { name: "X" }) { id } }',
      'Mutation.acceptInvitation': `mutation { acceptInvitation(token: "${'a'.repeat(43)}") { id } }`,
      'Mutation.beginTotpEnrolment': 'mutation { beginTotpEnrolment { secret } }',
      'Mutation.confirmTotpEnrolment': 'mutation { confirmTotpEnrolment(code: "123456") }',
      'Mutation.verifyTotp': 'mutation { verifyTotp(code: "123456") }',
      'Mutation.generateRecoveryCodes': 'mutation { generateRecoveryCodes }',
      'Mutation.useRecoveryCode': 'mutation { useRecoveryCode(code: "ABCDE-FGHIJ") }',
      'Mutation.beginPasskeyRegistration': 'mutation { beginPasskeyRegistration }',
      'Mutation.finishPasskeyRegistration':
        'mutation { finishPasskeyRegistration(response: "{}", name: "Key") { id } }',
      'Mutation.verifyPasskey': 'mutation { verifyPasskey(response: "{}") }',
      'Mutation.revokePasskey': `mutation { revokePasskey(id: "${randomUUID()}") }`,
      'Query.portfolioBooks': '{ portfolioBooks { journalEntryCount } }',
    };
    for (const operation of signedIn) {
      const workspaceSample = isWorkspaceOperation(operation) ? samples[operation](fixture) : undefined;
      const query = workspaceSample?.query ?? anonymousSamples[operation];
      assert.ok(query !== undefined, `no anonymous sample for ${operation}`);
      const result = await graphql(
        stack.gatewayUrl,
        query,
        workspaceSample?.variables === undefined ? {} : { variables: workspaceSample.variables },
      );
      assert.equal(result.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', `${operation}: ${result.text}`);
    }
  });
});
