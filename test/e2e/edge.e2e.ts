import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { send } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { createWorkspace } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const subgraphs = ['identity', 'accounting', 'documents', 'audit'] as const;

/** How many GraphQL requests the subgraphs have answered, from their own metrics. */
async function subgraphGraphqlRequests(): Promise<number> {
  let total = 0;
  for (const name of subgraphs) {
    const text = await (await fetch(new URL('/metrics', stack.subgraphUrl(name)))).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('numezis_http_requests_total{') && line.includes('route="/graphql"')) {
        total += Number(line.split(' ').at(-1));
      }
    }
  }
  return total;
}

describe('the gateway edge, through the whole graph', () => {
  let admin: Workspace;
  before(async () => {
    admin = await createWorkspace(stack);
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    send(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: admin.cookie, ...headers },
      body: JSON.stringify(body),
    });

  const refusal = (result: GraphQLResult<unknown>) => ({
    status: result.status,
    code: result.body.errors?.[0]?.extensions?.code,
    limit: result.body.errors?.[0]?.extensions?.limit,
  });

  it('refuses over-limit operations and batches before any subgraph is asked', async () => {
    const before = await subgraphGraphqlRequests();
    const aliases = Array.from({ length: 31 }, (_, index) => `a${index}: accounts { id }`).join(' ');
    const directives = Array.from({ length: 31 }, () => 'id @include(if: true)').join(' ');
    // Five pages of 200 entries, each with up to 50 receipts: far more than one answer should hold.
    const costly = Array.from(
      { length: 5 },
      (_, index) => `p${index}: journalEntries(first: 200) { id documents { id fileName } }`,
    ).join(' ');
    const cases: [unknown, { status: number; code: string; limit?: string }][] = [
      [{ query: `{ ${aliases} }` }, { status: 400, code: 'OPERATION_LIMIT_EXCEEDED', limit: 'aliases' }],
      [
        { query: `{ accounts { ${directives} } }` },
        { status: 400, code: 'OPERATION_LIMIT_EXCEEDED', limit: 'directives' },
      ],
      [{ query: `{ ${costly} }` }, { status: 400, code: 'OPERATION_LIMIT_EXCEEDED', limit: 'cost' }],
      [{ query: `{ ${'a '.repeat(5_100)}}` }, { status: 400, code: 'OPERATION_LIMIT_EXCEEDED', limit: 'tokens' }],
      [
        { query: `# ${'x'.repeat(33 * 1024)}\n{ accounts { id } }` },
        { status: 413, code: 'OPERATION_LIMIT_EXCEEDED', limit: 'size' },
      ],
      [[{ query: '{ accounts { id } }' }, { query: '{ accounts { id } }' }], { status: 400, code: 'BAD_REQUEST' }],
    ];
    for (const [body, expected] of cases) {
      const result = await post(body);
      assert.deepEqual(refusal(result), { limit: undefined, ...expected }, result.text.slice(0, 300));
    }
    assert.equal(await subgraphGraphqlRequests(), before, 'no subgraph answered a refused request');
    // The same shapes within the limits are answered.
    const fine = await post({ query: '{ a: accounts { id } b: journalEntries(first: 20) { id documents { id } } }' });
    assert.equal(fine.status, 200, fine.text);
    assert.ok((await subgraphGraphqlRequests()) > before);
  });

  it('refuses requests a browser could send cross-site without a preflight (CSRF)', async () => {
    const before = await subgraphGraphqlRequests();
    const byGet = await send(`${stack.gatewayUrl}?query=${encodeURIComponent('{ accounts { id } }')}`, {
      headers: { cookie: admin.cookie },
    });
    assert.deepEqual(refusal(byGet), { status: 400, code: 'BAD_REQUEST', limit: undefined });
    const asForm = await send(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', cookie: admin.cookie },
      body: JSON.stringify({
        query: 'mutation { createAccount(input: { number: "1", name: "x", type: ASSET }) { id } }',
      }),
    });
    assert.equal(asForm.status, 400, asForm.text);
    assert.equal(await subgraphGraphqlRequests(), before);
  });

  it('sends HSTS and the security headers on every answer, and names the security contact', async () => {
    for (const path of ['/graphql', '/health', '/no-such-path', '/.well-known/security.txt']) {
      const response = await fetch(new URL(path, stack.gatewayUrl));
      assert.equal(
        response.headers.get('strict-transport-security'),
        'max-age=63072000; includeSubDomains; preload',
        path,
      );
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
      await response.arrayBuffer();
    }
    const securityTxt = await (await fetch(new URL('/.well-known/security.txt', stack.gatewayUrl))).text();
    assert.match(securityTxt, /^Contact: mailto:security@numezis\.com$/m);
    assert.match(securityTxt, /^Expires: \d{4}-\d{2}-\d{2}T/m);
  });
});
