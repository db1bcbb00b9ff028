import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { contextHeader, createContextSigner, parseSigningKey, rolePermissions, systemClock } from '@numezis/runtime';
import type { SubgraphName } from '@numezis/runtime';
import { dataOf, graphql, send } from '../src/client.ts';
import { createWorkspace, postEntryWithReceipt } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const signer = createContextSigner({ key: parseSigningKey(stack.signingKey), clock: systemClock });

/** `_entities` straight at a subgraph, with a valid context for `tenantId`: the path the gateway uses. */
async function entities(subgraph: SubgraphName, tenantId: string, query: string, representations: object[]) {
  // An Admin of `tenantId`: everything readable there, so only the workspace boundary can say no.
  const token = signer.sign(
    {
      requestId: randomUUID(),
      clientIp: '127.0.0.1',
      userAgent: 'e2e',
      actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID() },
      access: { kind: 'tenant', tenantId, role: 'ADMIN', permissions: rolePermissions.ADMIN },
      mfaAt: null,
      mfaRequired: false,
    },
    subgraph,
  );
  const result = await send<{ _entities: unknown[] }>(stack.subgraphUrl(subgraph), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [contextHeader]: token },
    body: JSON.stringify({
      query: `query ($r: [_Any!]!) { _entities(representations: $r) { ${query} } }`,
      variables: { r: representations },
    }),
  });
  return dataOf(result)._entities;
}

describe('entity resolution by key stays inside the signed workspace', () => {
  it("answers another workspace's keys with null in every subgraph, mercurius included", async () => {
    const alpha = await createWorkspace(stack);
    const beta = await createWorkspace(stack);
    const { entryId, documentId } = await postEntryWithReceipt(stack.gatewayUrl, alpha);
    const { journalEntry } = dataOf(
      await graphql<{ journalEntry: { debitAccount: { id: string } } }>(
        stack.gatewayUrl,
        'query ($id: ID!) { journalEntry(id: $id) { debitAccount { id } } }',
        { as: alpha, variables: { id: entryId } },
      ),
    );

    const cases: [SubgraphName, string, object[]][] = [
      [
        'identity',
        '... on Tenant { id name } ... on User { id displayName }',
        [
          { __typename: 'Tenant', id: alpha.workspaceId },
          { __typename: 'User', id: alpha.userId },
        ],
      ],
      [
        'accounting',
        '... on Account { id name } ... on JournalEntry { id amount }',
        [
          { __typename: 'Account', id: journalEntry.debitAccount.id },
          { __typename: 'JournalEntry', id: entryId },
        ],
      ],
      ['documents', '... on Document { id fileName }', [{ __typename: 'Document', id: documentId }]],
      ['audit', '... on Tenant { auditLog { eventCount } }', [{ __typename: 'Tenant', id: alpha.workspaceId }]],
    ];
    for (const [subgraph, selection, representations] of cases) {
      const own = await entities(subgraph, alpha.workspaceId, selection, representations);
      assert.ok(
        own.every((entity) => entity !== null),
        `${subgraph} resolves its own workspace's keys`,
      );
      const foreign = await entities(subgraph, beta.workspaceId, selection, representations);
      assert.deepEqual(
        foreign,
        representations.map(() => null),
        `${subgraph} leaks across workspaces`,
      );
    }
  });
});
