import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildSchema, parse, validate } from 'graphql';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { createGateway } from '../app.ts';
import type { Gateway } from '../app.ts';
import { readGatewayConfig } from '../config.ts';
import { startForeignGraph } from '../testing/foreign-graph.ts';
import type { ForeignGraph } from '../testing/foreign-graph.ts';
import { defaultOperationLimits, operationLimitsRule } from './operation-limits.ts';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Product @key(fields: "upc") { upc: String! name: String! parent: Product related: [Product!]! }
  type Query { topProducts(first: Int): [Product!]! product: Product }
`);
const table = { upc: '1', name: 'Table' };

interface Answer {
  readonly status: number;
  readonly body: {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: string; limit?: string } }[];
  };
}

describe('operation limits at the gateway', () => {
  let graph: ForeignGraph;
  let gateway: Gateway;

  before(async () => {
    graph = await startForeignGraph({
      name: 'products',
      typeDefs,
      resolvers: {
        Query: { topProducts: () => [table], product: () => table },
        Product: { parent: () => table, related: () => [table] },
      },
    });
    gateway = await createGateway(
      readGatewayConfig({
        CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
        GATEWAY_SUPERGRAPH_PATH: graph.supergraphPath,
        GATEWAY_AUTH_MODE: 'off',
        LOG_LEVEL: 'warn',
      }),
    );
  });
  after(async () => {
    await gateway?.close();
    await graph?.stop();
  });

  const post = async (payload: unknown): Promise<Answer> => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
    return { status: response.statusCode, body: response.json() };
  };

  /** Sends a refused operation and checks that nothing behind the gateway was asked. */
  const refused = async (query: string, limit: string, status = 400) => {
    const before = graph.subgraphRequests();
    const answer = await post({ query });
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.data, undefined);
    assert.deepEqual(
      answer.body.errors?.map((error) => error.extensions?.code),
      ['OPERATION_LIMIT_EXCEEDED'],
      JSON.stringify(answer.body),
    );
    assert.equal(answer.body.errors?.[0]?.extensions?.limit, limit);
    assert.equal(graph.subgraphRequests(), before, 'no subgraph was asked');
    return answer;
  };

  const nested = (levels: number) => `{ product { ${'parent { '.repeat(levels)}name${' }'.repeat(levels)} } }`;

  it('answers an operation within every limit', async () => {
    const before = graph.subgraphRequests();
    const answer = await post({ query: nested(9) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.errors, undefined);
    assert.ok(graph.subgraphRequests() > before);
  });

  it('refuses an operation nested deeper than the limit, through fragments too', async () => {
    const answer = await refused(nested(11), 'depth');
    // Outside production the message says by how much, to help a developer.
    assert.match(answer.body.errors?.[0]?.message ?? '', /depth limit: 13 > 12/);
    const viaFragments = `
      query { product { ...Deep } }
      fragment Deep on Product { parent { parent { parent { ...Deeper } } } }
      fragment Deeper on Product { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } }`;
    await refused(viaFragments, 'depth');
  });

  it('refuses too many aliases and too many directives', async () => {
    const aliases = Array.from({ length: 31 }, (_, index) => `a${index}: product { name }`).join(' ');
    await refused(`{ ${aliases} }`, 'aliases');
    // The same field again merges into one, so each directive stands at a location of its own.
    const directives = Array.from({ length: 31 }, () => 'name @include(if: true)').join(' ');
    await refused(`{ product { ${directives} } }`, 'directives');
  });

  it('refuses an operation whose estimated cost is over the limit, counting list sizes', async () => {
    // 200 products × 50 related × 50 related: far more than a response should hold.
    await refused('{ topProducts(first: 200) { related { related { name } } } }', 'cost');
    // A variable page size counts as the largest page.
    const before = graph.subgraphRequests();
    const answer = await post({
      query: 'query ($n: Int) { topProducts(first: $n) { related { related { name } } } }',
      variables: { n: 1 },
    });
    assert.equal(answer.body.errors?.[0]?.extensions?.limit, 'cost');
    assert.equal(graph.subgraphRequests(), before);
    // Small pages of the same shape pass.
    assert.equal((await post({ query: '{ topProducts(first: 10) { related { related { name } } } }' })).status, 200);
  });

  it('refuses a document over the token or size limit before parsing it all', async () => {
    await refused(`{ ${'a '.repeat(5_100)}}`, 'tokens');
    const padding = `# ${'x'.repeat(33 * 1024)}\n`;
    await refused(`${padding}{ product { name } }`, 'size', 413);
  });

  it(
    'answers an oversized body with 413 and reads the rest, so a client still sending gets the answer',
    { timeout: 15_000 },
    async () => {
      const address = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
      const body = Buffer.from(JSON.stringify({ query: `{ topProducts { name } } # ${'x'.repeat(4 * 1024 * 1024)}` }));
      const request = httpRequest(`${address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      const failed = new Promise<Error>((resolve) => request.on('error', resolve));
      // The answer comes from the announced length, before the body: the client is still sending then.
      request.write(body.subarray(0, 64 * 1024));
      const response = await new Promise<IncomingMessage>((resolve) => request.on('response', resolve));
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      assert.equal(response.statusCode, 413);
      assert.match(Buffer.concat(chunks).toString(), /"PAYLOAD_TOO_LARGE"/);
      // The rest still goes out: the gateway reads and drops it rather than resetting the connection.
      const sent = new Promise<void>((resolve) => request.end(body.subarray(64 * 1024), resolve));
      const outcome = await Promise.race([sent.then(() => 'sent'), failed.then((error) => error.message)]);
      assert.equal(outcome, 'sent');
    },
  );

  it('refuses batched requests and never loops on a fragment cycle', async () => {
    const before = graph.subgraphRequests();
    const batch = await post([{ query: '{ product { name } }' }, { query: '{ product { name } }' }]);
    assert.equal(batch.status, 400);
    const cycle = await post({
      query: 'query { product { ...A } } fragment A on Product { related { ...B } } fragment B on Product { ...A }',
    });
    assert.equal(cycle.status, 400);
    assert.equal(cycle.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(graph.subgraphRequests(), before);
  });
});

describe('operation limits in production', () => {
  it('name the limit but never its value', () => {
    const schema = buildSchema('type Query { node: Node } type Node { child: Node name: String }');
    const deep = parse(`{ node { ${'child { '.repeat(13)}name${' }'.repeat(13)} } }`);
    const [error] = validate(schema, deep, [operationLimitsRule(defaultOperationLimits, false)]);
    assert.equal(error?.message, 'The operation exceeds the depth limit');
    assert.deepEqual(error?.extensions, { code: 'OPERATION_LIMIT_EXCEEDED', limit: 'depth' });
  });
});
