import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { createGateway } from './app.ts';
import type { Gateway } from './app.ts';
import { readGatewayConfig } from './config.ts';

// A subgraph that is not ours: no signature check, nothing of our domain.
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Product @key(fields: "upc") { upc: String! name: String! }
  type Query { topProducts: [Product!]! }
`);

describe('the gateway serves any composed supergraph', () => {
  let subgraph: ApolloServer;
  let gateway: Gateway;
  let supergraphPath: string;

  before(async () => {
    subgraph = new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs,
        resolvers: { Query: { topProducts: () => [{ upc: '1', name: 'Table' }] } },
      }),
    });
    const { url } = await startStandaloneServer(subgraph, { listen: { host: '127.0.0.1', port: 0 } });
    const composition = composeServices([{ name: 'products', url, typeDefs }]);
    assert.equal(composition.errors, undefined);
    const dir = await mkdtemp(join(tmpdir(), 'supergraph-'));
    supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, composition.supergraphSdl ?? '');
    gateway = await createGateway(
      readGatewayConfig({
        CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
        GATEWAY_SUPERGRAPH_PATH: supergraphPath,
        // A foreign graph has no identity subgraph to authenticate against.
        GATEWAY_AUTH_MODE: 'off',
        GATEWAY_CORS_ORIGINS: 'https://app.numezis.ch',
        LOG_LEVEL: 'warn',
      }),
    );
  });

  after(async () => {
    await gateway.close();
    await subgraph.stop();
  });

  it('plans and answers a query against it', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: '{ topProducts { upc name } }' },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { data: { topProducts: [{ upc: '1', name: 'Table' }] } });
  });

  it('lets only the listed browser origins send credentialed requests', async () => {
    const preflight = (origin: string) =>
      gateway.app.inject({
        method: 'OPTIONS',
        url: '/graphql',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight('https://app.numezis.ch');
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.numezis.ch');
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    const refused = await preflight('https://evil.example');
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
  });

  it('refuses to start with session authentication when there is no identity subgraph', async () => {
    await assert.rejects(
      createGateway(
        readGatewayConfig({
          CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
          GATEWAY_SUPERGRAPH_PATH: supergraphPath,
          LOG_LEVEL: 'warn',
        }),
      ),
      /GATEWAY_AUTH_MODE=session needs an identity subgraph/,
    );
  });

  it('reports ready when its subgraphs answer', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok', checks: { products: 'ok' } });
  });
});
