import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mailsTo } from '@numezis/runtime';
import { dataOf, graphql } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { addMember, createAccount, createWorkspace } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// Its own stack: the assertions read the services' own log lines, which only the launcher sees.
let stack: TestStack;
let admin: Workspace;
let viewer: Workspace;
let operator: Workspace;

interface DenialLine {
  readonly event: string;
  readonly service: string;
  readonly field: string;
  readonly code: string;
  readonly reason?: string;
  readonly requestId: string;
  readonly actor: string;
  readonly access: string;
  readonly tenantId?: string;
}

/** The request id the gateway put on the errors of a refused request. */
function requestIdOf(result: GraphQLResult<unknown>): string {
  const requestId = result.body.errors?.[0]?.extensions?.requestId;
  assert.equal(typeof requestId, 'string', result.text);
  return requestId as string;
}

/** The gateway's `access_denied` line for a request. */
async function gatewayDenial(requestId: string): Promise<DenialLine> {
  const line = await stack.waitForLog('gateway', (candidate) => {
    return candidate.includes('"access_denied"') && candidate.includes(requestId);
  });
  return JSON.parse(line) as DenialLine;
}

/**
 * Accounting logged nothing for `requestId`. A later request that accounting does log (a by-id miss
 * counts as a possible probe) proves that every earlier line of accounting has crossed the pipe.
 */
async function assertAccountingNeverSaw(requestId: string): Promise<void> {
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-numezis-workspace': admin.workspaceId },
    body: JSON.stringify({ query: `{ journalEntry(id: "${randomUUID()}") { id } }` }),
  });
  assert.deepEqual(await response.json(), { data: { journalEntry: null } });
  const barrierId = response.headers.get('x-request-id');
  assert.ok(barrierId);
  await stack.waitForLog('accounting', (line) => line.includes('"access_denied"') && line.includes(barrierId));
  assert.deepEqual(
    stack.logs('accounting').filter((line) => line.includes(requestId)),
    [],
  );
}

async function accountNumbers(): Promise<string[]> {
  const { accounts } = dataOf(
    await graphql<{ accounts: { number: string }[] }>(stack.gatewayUrl, '{ accounts { number } }', { as: admin }),
  );
  return accounts.map((account) => account.number);
}

const refusals = (result: GraphQLResult<unknown>) =>
  (result.body.errors ?? []).map(({ message, path, extensions }) => ({
    message,
    path,
    code: extensions?.code,
    permission: extensions?.permission,
  }));

describe('the gateway refuses early from the field-to-policy registry', () => {
  before(async () => {
    stack = await startTestStack();
    admin = await createWorkspace(stack, 'Early Refusal AG');
    viewer = await addMember(stack, admin, 'VIEWER');
    operator = await addMember(stack, admin, 'OPERATOR');
    await createAccount(stack.gatewayUrl, admin, '1000');
  });
  after(() => stack.close());

  it('answers the allowed fields of a query and gives a forbidden one null with FORBIDDEN', async () => {
    const result = await graphql(stack.gatewayUrl, '{ accounts { number } auditEvents { id } }', { as: viewer });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body.data, { accounts: [{ number: '1000' }], auditEvents: null });
    assert.deepEqual(refusals(result), [
      { message: 'Your role does not allow this', path: ['auditEvents'], code: 'FORBIDDEN', permission: 'audit.read' },
    ]);

    const line = await gatewayDenial(requestIdOf(result));
    assert.deepEqual(
      { ...line, requestId: undefined },
      {
        ...line,
        requestId: undefined,
        event: 'access_denied',
        service: 'gateway',
        field: 'Query.auditEvents',
        code: 'FORBIDDEN',
        reason: 'audit.read',
        actor: `user:${viewer.userId}`,
        access: 'tenant',
        tenantId: admin.workspaceId,
      },
    );
  });

  it('never lets a forbidden mutation reach its subgraph', async () => {
    const result = await graphql(
      stack.gatewayUrl,
      'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }',
      { as: viewer, variables: { input: { number: '2990', name: 'Probe', type: 'ASSET' } } },
    );
    assert.equal(result.body.data, null);
    assert.deepEqual(refusals(result), [
      {
        message: 'Your role does not allow this',
        path: ['createAccount'],
        code: 'FORBIDDEN',
        permission: 'accounting.write',
      },
    ]);

    const requestId = requestIdOf(result);
    const line = await gatewayDenial(requestId);
    assert.equal(line.field, 'Mutation.createAccount');
    assert.equal(line.reason, 'accounting.write');
    await assertAccountingNeverSaw(requestId);
    assert.ok(!(await accountNumbers()).includes('2990'));
  });

  it('runs the allowed mutation of an operation and never the forbidden one', async () => {
    const invitee = `${randomUUID()}@example.ch`;
    const result = await graphql(
      stack.gatewayUrl,
      `
        mutation ($account: CreateAccountInput!, $invite: InviteMemberInput!) {
          createAccount(input: $account) {
            number
          }
          inviteMember(input: $invite) {
            id
          }
        }
      `,
      {
        as: operator,
        variables: {
          account: { number: '2991', name: 'Allowed', type: 'ASSET' },
          invite: { email: invitee, role: 'VIEWER' },
        },
      },
    );
    // Both fields are non-null: the refusal nulls the whole data, as the same error from a resolver would.
    assert.equal(result.body.data, null);
    assert.deepEqual(refusals(result), [
      {
        message: 'Your role does not allow this',
        path: ['inviteMember'],
        code: 'FORBIDDEN',
        permission: 'members.manage',
      },
    ]);
    assert.equal((await gatewayDenial(requestIdOf(result))).field, 'Mutation.inviteMember');
    assert.ok((await accountNumbers()).includes('2991'), 'the allowed mutation ran');
    assert.deepEqual(await mailsTo(stack.outboxDir, invitee), [], 'the refused mutation sent no invitation');
  });

  it('refuses a workspace field to an anonymous caller as UNAUTHENTICATED, before any subgraph', async () => {
    const result = await graphql(stack.gatewayUrl, '{ accounts { id } }');
    assert.deepEqual(result.body.data, { accounts: null });
    assert.deepEqual(
      result.body.errors?.map(({ message, path, extensions }) => ({ message, path, code: extensions?.code })),
      [{ message: 'Sign in first', path: ['accounts'], code: 'UNAUTHENTICATED' }],
    );
    const requestId = requestIdOf(result);
    const line = await gatewayDenial(requestId);
    assert.deepEqual(
      [line.field, line.code, line.actor, line.access],
      ['Query.accounts', 'UNAUTHENTICATED', 'anonymous', 'anonymous'],
    );
    await assertAccountingNeverSaw(requestId);
  });

  it('plans the remainder of aliased and fragmented fields apart from the whole operation', async () => {
    const query = `
      query ($withAudit: Boolean!) {
        first: accounts { number }
        ...Books
        ... on Query { workspace { name } }
      }
      fragment Books on Query {
        auditEvents @include(if: $withAudit) { id }
        journalEntries { id }
        audit: auditEvents { id }
      }
    `;
    const asViewer = await graphql(stack.gatewayUrl, query, { as: viewer, variables: { withAudit: true } });
    assert.deepEqual(asViewer.body.data, {
      first: (await accountNumbers()).map((number) => ({ number })),
      auditEvents: null,
      journalEntries: [],
      audit: null,
      workspace: { name: 'Early Refusal AG' },
    });
    assert.deepEqual(
      asViewer.body.errors?.map((error) => error.path),
      [['auditEvents'], ['audit']],
    );

    // The same text from someone allowed everything: a plan cached for the viewer's remainder must not answer it.
    const asAdmin = await graphql<Record<string, unknown>>(stack.gatewayUrl, query, {
      as: admin,
      variables: { withAudit: true },
    });
    const data = dataOf(asAdmin);
    assert.deepEqual(Object.keys(data), ['first', 'auditEvents', 'journalEntries', 'audit', 'workspace']);
    assert.ok(Array.isArray(data.auditEvents) && Array.isArray(data.audit), asAdmin.text);
  });
});
