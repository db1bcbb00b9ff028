import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller } from '../src/client.ts';
import { addMember, createWorkspace, enrolTotp, postEntryWithReceipt } from '../src/fixtures.ts';

import { sharedStack } from '../src/shared-stack.ts';
import { runTrustedDocument } from '../src/trusted-documents.ts';

const stack = sharedStack();

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

async function createKey(admin: Caller, role: string): Promise<string> {
  const { createApiKey } = dataOf(
    await graphql<{ createApiKey: { secret: string } }>(
      stack.gatewayUrl,
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { as: admin, variables: { input: { name: 'Partner', role } } },
    ),
  );
  return createApiKey.secret;
}

describe('API keys for partner integrations', () => {
  it('needs a recent second-factor step to create one', async () => {
    const admin = await createWorkspace(stack);
    const refused = await graphql(
      stack.gatewayUrl,
      'mutation { createApiKey(input: { name: "P", role: VIEWER }) { secret } }',
      {
        as: admin,
      },
    );
    assert.equal(errorCode(refused), 'FORBIDDEN');
    assert.equal(refused.body.errors?.[0]?.extensions?.reason, 'MFA_STEP_UP_REQUIRED');
  });

  it('acts with its role in its workspace only, is shown once, stored hashed and revocable', async () => {
    const admin = await enrolTotp(stack, await createWorkspace(stack));
    await postEntryWithReceipt(stack.gatewayUrl, admin);
    const key = await createKey(admin, 'VIEWER');
    assert.match(key, /^nmz_[A-Za-z0-9_-]{43}$/);

    const listed = dataOf(
      await graphql<{ apiKeys: { hint: string; role: string; lastUsedAt: string | null }[] }>(
        stack.gatewayUrl,
        '{ apiKeys { hint role lastUsedAt } }',
        { as: admin },
      ),
    ).apiKeys;
    assert.deepEqual(
      listed.map(({ hint, role }) => ({ hint, role })),
      [{ hint: key.slice(0, 8), role: 'VIEWER' }],
    );

    const read = await runTrustedDocument<{ journalEntries: unknown[] }>(stack.gatewayUrl, 'JournalEntries', {
      headers: bearer(key),
    });
    assert.equal(dataOf(read).journalEntries.length, 1);
    const write = await runTrustedDocument(stack.gatewayUrl, 'PostJournalEntry', {
      headers: bearer(key),
      variables: {
        input: {
          bookingDate: '2026-05-01',
          description: 'Nope',
          amount: '1.00',
          debitAccountId: '1',
          creditAccountId: '2',
        },
      },
    });
    assert.equal(errorCode(write), 'FORBIDDEN');

    const other = await createWorkspace(stack);
    const elsewhere = await runTrustedDocument(stack.gatewayUrl, 'JournalEntries', {
      headers: { ...bearer(key), 'x-numezis-workspace': other.workspaceId },
    });
    assert.equal(elsewhere.status, 403);
    assert.equal(errorCode(elsewhere), 'FORBIDDEN');

    const used = dataOf(
      await graphql<{ apiKeys: { id: string; lastUsedAt: string | null }[] }>(
        stack.gatewayUrl,
        '{ apiKeys { id lastUsedAt } }',
        { as: admin },
      ),
    ).apiKeys;
    assert.notEqual(used[0]?.lastUsedAt, null);

    dataOf(
      await graphql(stack.gatewayUrl, 'mutation ($id: ID!) { revokeApiKey(id: $id) }', {
        as: admin,
        variables: { id: used[0]?.id },
      }),
    );
    const revoked = await runTrustedDocument(stack.gatewayUrl, 'JournalEntries', { headers: bearer(key) });
    assert.equal(revoked.status, 401);
    assert.equal(errorCode(revoked), 'UNAUTHENTICATED');
  });

  it('refuses an unknown or malformed key for the whole request', async () => {
    for (const authorization of ['Bearer nmz_' + 'x'.repeat(43), 'Bearer nope', 'Basic dXNlcjpwYXNz']) {
      const result = await graphql(stack.gatewayUrl, '{ me { email } }', { headers: { authorization } });
      assert.equal(result.status, 401, authorization);
      assert.equal(errorCode(result), 'UNAUTHENTICATED');
    }
  });
});

describe('managing members', () => {
  it('changes roles, never above the granter and never removing the last Admin', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'VIEWER');
    dataOf(
      await graphql(stack.gatewayUrl, `mutation { setMemberRole(userId: "${member.userId}", role: OPERATOR) }`, {
        as: admin,
      }),
    );
    const write = await graphql(
      stack.gatewayUrl,
      'mutation { createAccount(input: { number: "1000", name: "Kasse", type: ASSET }) { id } }',
      {
        as: member,
      },
    );
    dataOf(write);

    const lastAdmin = await graphql(
      stack.gatewayUrl,
      `mutation { setMemberRole(userId: "${admin.userId}", role: VIEWER) }`,
      { as: admin },
    );
    assert.equal(errorCode(lastAdmin), 'BAD_USER_INPUT');
    const removeLast = await graphql(stack.gatewayUrl, `mutation { removeMember(userId: "${admin.userId}") }`, {
      as: admin,
    });
    assert.equal(errorCode(removeLast), 'BAD_USER_INPUT');
  });

  it('removes a member, whose session then reaches nothing of the workspace', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'VIEWER');
    dataOf(await graphql(stack.gatewayUrl, `mutation { removeMember(userId: "${member.userId}") }`, { as: admin }));
    const after = await graphql(stack.gatewayUrl, '{ journalEntries { id } }', { as: member });
    assert.equal(errorCode(after), 'UNAUTHENTICATED');
  });

  it("lets an Admin end a member's sessions, effective on the next request", async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'VIEWER');
    const ended = dataOf(
      await graphql<{ revokeMemberSessions: number }>(
        stack.gatewayUrl,
        `mutation { revokeMemberSessions(userId: "${member.userId}") }`,
        {
          as: admin,
        },
      ),
    );
    assert.ok(ended.revokeMemberSessions >= 1);
    const me = await graphql(stack.gatewayUrl, '{ me { email } }', { as: member });
    assert.deepEqual(me.body.data, { me: null });
    assert.match(me.setCookie ?? '', /Max-Age=0/);
  });
});
