import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { contextHeader, generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { sha256Hex } from '@numezis/schema';
import { createGateway } from './app.ts';
import type { Gateway } from './app.ts';
import { readGatewayConfig } from './config.ts';
import { loadFieldPolicyFile } from './field-policy-file.ts';
import { startForeignGraph } from './testing/foreign-graph.ts';
import type { ForeignGraph } from './testing/foreign-graph.ts';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String secret: String }
`);
const hello = 'query Hello {\n  hello\n  secret\n}';
const partnerKey = 'nmz_test_partner_key';
const keyId = randomUUID();
const tenantId = randomUUID();

/** Identity's API-key route as the gateway calls it, answering for one key, and what it was sent. */
async function startIdentityStub(): Promise<{ server: Server; url: string; signed: () => number }> {
  let signed = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      if (typeof request.headers[contextHeader] === 'string') signed++;
      const { key } = JSON.parse(body) as { key: string };
      const apiKey =
        request.url === '/internal/api-keys/resolve' && key === partnerKey
          ? {
              keyId,
              access: { kind: 'tenant', tenantId, role: 'VIEWER', permissions: ['workspace.read', 'accounting.read'] },
            }
          : null;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ apiKey }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${address.port}/graphql`, signed: () => signed };
}

describe('a foreign supergraph served with our authentication and its own field policies', () => {
  let graph: ForeignGraph;
  let identity: Awaited<ReturnType<typeof startIdentityStub>>;
  let gateway: Gateway;

  before(async () => {
    graph = await startForeignGraph({
      name: 'hello',
      typeDefs,
      resolvers: { Query: { hello: () => 'Grüezi', secret: () => 'nope' } },
    });
    identity = await startIdentityStub();
    await writeFile(
      join(graph.dir, 'manifest.json'),
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256Hex(hello), name: 'Hello', type: 'query', body: hello }],
      }),
    );
    await writeFile(
      join(graph.dir, 'policies.json'),
      JSON.stringify({
        'Query.hello': { subgraph: 'hello', scope: 'tenant', permission: 'accounting.read' },
        'Query.secret': { subgraph: 'hello', scope: 'tenant', permission: 'payroll.read' },
      }),
    );
    gateway = await createGateway(
      readGatewayConfig({
        CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey,
        GATEWAY_SUPERGRAPH_PATH: graph.supergraphPath,
        GATEWAY_PERSISTED_QUERY_MANIFEST: join(graph.dir, 'manifest.json'),
        GATEWAY_FIELD_POLICY_PATH: join(graph.dir, 'policies.json'),
        GATEWAY_IDENTITY_URL: identity.url,
        LOG_LEVEL: 'silent',
      }),
    );
  });
  after(async () => {
    await gateway?.close();
    await new Promise((resolve) => identity?.server.close(resolve));
    await graph?.stop();
  });

  it('resolves an API key at GATEWAY_IDENTITY_URL and decides root fields from GATEWAY_FIELD_POLICY_PATH', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${partnerKey}` },
      payload: { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(hello) } } },
    });
    const body = response.json<{ data: unknown; errors: { extensions: { code: string } }[] }>();
    assert.deepEqual(body.data, { hello: 'Grüezi', secret: null });
    assert.equal(body.errors[0]?.extensions.code, 'FORBIDDEN');
    assert.ok(identity.signed() > 0, 'the gateway signs its calls to identity');
  });

  it('refuses a key identity does not know', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: 'Bearer nmz_unknown' },
      payload: { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(hello) } } },
    });
    assert.equal(response.statusCode, 401);
  });

  it('refuses to start on a registry entry it could misread', async () => {
    const path = join(graph.dir, 'bad-policies.json');
    await writeFile(path, JSON.stringify({ 'Query.hello': { subgraph: 'hello', scope: 'tenant', permission: 'all' } }));
    await assert.rejects(loadFieldPolicyFile(path), /GATEWAY_FIELD_POLICY_PATH: .*"Query.hello" is not a field policy/);
    await writeFile(path, JSON.stringify({ 'Query.hello': { subgraph: 'hello', scope: 'everyone' } }));
    await assert.rejects(loadFieldPolicyFile(path), /not a field policy/);
  });
});
