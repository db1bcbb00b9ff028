import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { sha256Hex } from '@numezis/schema';
import { createGateway } from '../app.ts';
import type { Gateway } from '../app.ts';
import { readGatewayConfig } from '../config.ts';
import { startForeignGraph } from '../testing/foreign-graph.ts';
import type { ForeignGraph } from '../testing/foreign-graph.ts';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String secret: String }
  type Mutation { bump: Int }
`);
const hello = 'query Hello {\n  hello\n}';
const bump = 'mutation Bump {\n  bump\n}';
const persisted = (body: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256Hex(body) } });

describe('trusted documents and persisted queries', () => {
  let graph: ForeignGraph;
  const gateways: Gateway[] = [];

  const start = async (env: Record<string, string>) => {
    const gateway = await createGateway(
      readGatewayConfig({
        CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
        GATEWAY_SUPERGRAPH_PATH: graph.supergraphPath,
        GATEWAY_PERSISTED_QUERY_MANIFEST: join(graph.dir, 'manifest.json'),
        GATEWAY_AUTH_MODE: 'off',
        LOG_LEVEL: 'warn',
        ...env,
      }),
    );
    gateways.push(gateway);
    return gateway;
  };

  before(async () => {
    graph = await startForeignGraph({
      name: 'hello',
      typeDefs,
      resolvers: { Query: { hello: () => 'Grüezi', secret: () => 'nope' }, Mutation: { bump: () => 1 } },
    });
    const operations = [
      { id: sha256Hex(hello), name: 'Hello', type: 'query', body: hello },
      { id: sha256Hex(bump), name: 'Bump', type: 'mutation', body: bump },
    ];
    await writeFile(
      join(graph.dir, 'manifest.json'),
      JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }),
    );
  });
  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await graph?.stop();
  });

  const post = (gateway: Gateway, payload: unknown) =>
    gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  const codeOf = (response: { json(): unknown }) =>
    (response.json() as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

  it('run a trusted document by id, by POST and by GET, GET answers private', async () => {
    const gateway = await start({});
    const byPost = await post(gateway, { extensions: persisted(hello) });
    assert.deepEqual(byPost.json(), { data: { hello: 'Grüezi' } });
    const byGet = await gateway.app.inject({
      method: 'GET',
      url: `/graphql?extensions=${encodeURIComponent(JSON.stringify(persisted(hello)))}`,
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.deepEqual(byGet.json(), { data: { hello: 'Grüezi' } }, byGet.body);
    assert.match(String(byGet.headers['cache-control']), /\bprivate\b/);
    // A mutation is never run by GET, trusted or not.
    const calls = graph.subgraphRequests();
    const mutationByGet = await gateway.app.inject({
      method: 'GET',
      url: `/graphql?extensions=${encodeURIComponent(JSON.stringify(persisted(bump)))}`,
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(mutationByGet.statusCode, 405);
    assert.equal(graph.subgraphRequests(), calls);
  });

  it('let the web client register automatic persisted queries, then send the hash alone', async () => {
    const gateway = await start({});
    const query = '{ secret }';
    assert.equal(codeOf(await post(gateway, { extensions: persisted(query) })), 'PERSISTED_QUERY_NOT_FOUND');
    assert.deepEqual((await post(gateway, { query, extensions: persisted(query) })).json(), {
      data: { secret: 'nope' },
    });
    assert.deepEqual((await post(gateway, { extensions: persisted(query) })).json(), { data: { secret: 'nope' } });
  });

  it('with GATEWAY_TRUSTED_DOCUMENTS_ONLY, refuse every other document and any registration', async () => {
    const gateway = await start({ GATEWAY_TRUSTED_DOCUMENTS_ONLY: 'true' });
    const calls = graph.subgraphRequests();
    const freeText = await post(gateway, { query: '{ secret }' });
    assert.equal(freeText.statusCode, 400);
    assert.equal(codeOf(freeText), 'PERSISTED_QUERY_REQUIRED');
    const registration = await post(gateway, { query: '{ secret }', extensions: persisted('{ secret }') });
    assert.equal(codeOf(registration), 'PERSISTED_QUERY_REQUIRED');
    const unknown = await post(gateway, { extensions: persisted('{ secret }') });
    assert.equal(codeOf(unknown), 'PERSISTED_QUERY_NOT_FOUND');
    assert.equal(graph.subgraphRequests(), calls, 'nothing reached the subgraph');
    assert.deepEqual((await post(gateway, { extensions: persisted(hello) })).json(), { data: { hello: 'Grüezi' } });
  });

  it('refuse to start on a manifest whose ids are not their bodies’ SHA-256', async () => {
    const forged = join(graph.dir, 'forged.json');
    await writeFile(
      forged,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256Hex(hello), name: 'Hello', type: 'query', body: '{ secret }' }],
      }),
    );
    await assert.rejects(start({ GATEWAY_PERSISTED_QUERY_MANIFEST: forged }), /GATEWAY_PERSISTED_QUERY_MANIFEST/);
  });
});
