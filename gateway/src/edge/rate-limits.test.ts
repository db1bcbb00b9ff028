import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { createGateway } from '../app.ts';
import type { Gateway } from '../app.ts';
import { readGatewayConfig } from '../config.ts';
import { startForeignGraph } from '../testing/foreign-graph.ts';
import type { ForeignGraph } from '../testing/foreign-graph.ts';

// Tests meet the real Redis of this machine (and of CI, which starts it).
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String }
`);

describe('the per-address rate limit, shared by gateway replicas through Redis', () => {
  let graph: ForeignGraph;
  let replicas: Gateway[] = [];

  before(async () => {
    graph = await startForeignGraph({ name: 'hello', typeDefs, resolvers: { Query: { hello: () => 'Grüezi' } } });
    const env = {
      CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
      GATEWAY_SUPERGRAPH_PATH: graph.supergraphPath,
      GATEWAY_AUTH_MODE: 'off',
      GATEWAY_TRUST_PROXY: '127.0.0.1',
      GATEWAY_RATE_LIMIT_PER_IP: '5',
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'warn',
    };
    replicas = [await createGateway(readGatewayConfig(env)), await createGateway(readGatewayConfig(env))];
  });
  after(async () => {
    for (const replica of replicas) await replica.close();
    await graph?.stop();
  });

  const ask = (replica: Gateway | undefined, ip: string) => {
    assert.ok(replica !== undefined);
    return replica.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      payload: JSON.stringify({ query: '{ hello }' }),
    });
  };

  it('counts one address across replicas and answers 429 with Retry-After, reaching nothing behind', async () => {
    // Documentation addresses of their own per run, so earlier runs' counters do not count.
    const documentationAddress = () => `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
    const ip = documentationAddress();
    const other = documentationAddress();
    await Promise.all([
      (async () => {
        for (let index = 0; index < 3; index++) assert.equal((await ask(replicas[0], ip)).statusCode, 200);
      })(),
      (async () => {
        for (let index = 0; index < 2; index++) assert.equal((await ask(replicas[1], ip)).statusCode, 200);
      })(),
    ]);
    const calls = graph.subgraphRequests();
    const refused = await ask(replicas[0], ip);
    assert.equal(refused.statusCode, 429);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    const body = refused.json<{ errors: { extensions: Record<string, unknown> }[] }>();
    assert.equal(body.errors[0]?.extensions.code, 'RATE_LIMITED');
    assert.equal(body.errors[0]?.extensions.scope, 'ip');
    assert.equal((await ask(replicas[1], ip)).statusCode, 429);
    assert.equal(graph.subgraphRequests(), calls, 'no subgraph was asked');
    // Another address is unaffected, and health probes are never limited.
    assert.equal((await ask(replicas[1], other)).statusCode, 200);
    const health = await replicas[0]?.app.inject({ method: 'GET', url: '/livez', headers: { 'x-forwarded-for': ip } });
    assert.equal(health?.statusCode, 200);
  });
});
