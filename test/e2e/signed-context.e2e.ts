import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anonymousContext,
  contextHeader,
  createContextSigner,
  manualClock,
  parseSigningKey,
  rolePermissions,
  subgraphNames,
  systemClock,
} from '@numezis/runtime';
import type { ForwardedContext, SubgraphName } from '@numezis/runtime';
import { dataOf, graphql, send } from '../src/client.ts';
import { createWorkspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const key = parseSigningKey(stack.signingKey);
const signer = createContextSigner({ key, clock: systemClock });

const anonymous = (): ForwardedContext =>
  anonymousContext({ requestId: 'e2e-direct', clientIp: '127.0.0.1', userAgent: 'e2e' });
/** What a forger would like to claim: Admin of a workspace. */
const adminOf = (tenantId: string) => ({ kind: 'tenant', tenantId, role: 'ADMIN', permissions: rolePermissions.ADMIN });

function postDirect(subgraph: SubgraphName, token: string | undefined, query = '{ __typename }') {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers[contextHeader] = token;
  return send(stack.subgraphUrl(subgraph), { method: 'POST', headers, body: JSON.stringify({ query }) });
}

function assertRefused(result: Awaited<ReturnType<typeof postDirect>>) {
  assert.equal(result.status, 401);
  assert.match(result.contentType ?? '', /application\/json/);
  assert.equal(result.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.equal(result.body.data, undefined);
}

describe('subgraphs accept only the gateway’s signed context', () => {
  for (const subgraph of subgraphNames) {
    it(`${subgraph}: serves a request signed for it`, async () => {
      const result = await postDirect(subgraph, signer.sign(anonymous(), subgraph));
      assert.equal(result.status, 200);
      assert.deepEqual(result.body.data, { __typename: 'Query' });
    });

    it(`${subgraph}: refuses a request without a signature`, async () => {
      assertRefused(await postDirect(subgraph, undefined));
    });

    it(`${subgraph}: refuses a tampered, expired or misaddressed signature`, async () => {
      const [header, payload, signature] = signer.sign(anonymous(), subgraph).split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { ctx: ForwardedContext };
      const forged = Buffer.from(
        JSON.stringify({ ...claims, ctx: { ...claims.ctx, access: adminOf('00000000-0000-4000-8000-000000000000') } }),
      ).toString('base64url');
      assertRefused(await postDirect(subgraph, `${header}.${forged}.${signature}`));

      const past = createContextSigner({ key, clock: manualClock(Date.now() - 120_000) });
      assertRefused(await postDirect(subgraph, past.sign(anonymous(), subgraph)));

      const other = subgraphNames.find((name) => name !== subgraph) ?? 'identity';
      assertRefused(await postDirect(subgraph, signer.sign(anonymous(), other)));
    });
  }

  it('a refused request touches no data', async () => {
    const workspace = await createWorkspace(stack);
    const [header, payload, signature] = signer.sign(anonymous(), 'accounting').split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { ctx: ForwardedContext };
    const forged = Buffer.from(
      JSON.stringify({ ...claims, ctx: { ...claims.ctx, access: adminOf(workspace.workspaceId) } }),
    ).toString('base64url');
    assertRefused(
      await postDirect(
        'accounting',
        `${header}.${forged}.${signature}`,
        'mutation { createAccount(input: { number: "1000", name: "Kasse", type: ASSET }) { id } }',
      ),
    );
    assert.deepEqual(dataOf(await graphql(stack.gatewayUrl, '{ accounts { id } }', { as: workspace })), {
      accounts: [],
    });
  });
});
