import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { systemClock } from '@numezis/runtime/clock';
import {
  anonymousContext,
  contextHeader,
  createContextSigner,
  createContextVerifier,
  generateContextKeyPair,
  parseSigningKey,
  parseVerifyKeys,
  requestTokenCache,
} from '@numezis/runtime/context/signed-context';
import { rolePermissions } from '@numezis/runtime/policy/roles';
import { createHttpServer } from '@numezis/runtime/server/http';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { Role } from '@numezis/runtime/policy/roles';
import { registerDocumentTransfers } from './document-transfers.ts';
import type { GatewayContext } from './request-context.ts';

const keys = generateContextKeyPair('test');
const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });
const verifier = createContextVerifier({
  keys: parseVerifyKeys(keys.verifyKey),
  audience: 'documents',
  clock: systemClock,
});
const workspaceId = randomUUID();
const ticket = 'T'.repeat(43);

function contextAs(role: Role | null): GatewayContext {
  const basics = { requestId: randomUUID(), clientIp: '127.0.0.1', userAgent: null };
  const forwarded: ForwardedContext =
    role === null
      ? anonymousContext(basics)
      : {
          ...basics,
          actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID() },
          access: { kind: 'tenant', tenantId: workspaceId, role, permissions: rolePermissions[role] },
          mfaAt: null,
          mfaRequired: false,
        };
  return {
    forwarded,
    tokenFor: requestTokenCache(signer, forwarded),
    outgoingSession: { instruction: null },
    staleSession: false,
  };
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bytes: Buffer;
}

describe('document transfers', () => {
  let documents: FastifyInstance;
  let gateway: FastifyInstance;
  let gatewayOrigin: string;
  const received: Received[] = [];
  /** How the fake documents service answers an upload: after reading it all, or at its first chunk. */
  let answerEarly = false;
  /** The role the fake authentication hands out for the next request; null is anonymous. */
  let role: Role | null = 'ADMIN';

  before(async () => {
    documents = Fastify();
    documents.removeAllContentTypeParsers();
    documents.addContentTypeParser('*', (_request, _payload, done) => done(null));
    documents.put('/internal/uploads', async (request, reply) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
        chunks.push(chunk as Buffer);
        if (answerEarly) break;
      }
      received.push({ method: 'PUT', url: request.url, headers: request.headers, bytes: Buffer.concat(chunks) });
      if (answerEarly) {
        request.raw.resume();
        return reply
          .status(413)
          .send({ errors: [{ message: 'too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      }
      return reply.status(201).send({ document: { id: 'd' } });
    });
    documents.get('/internal/downloads', async (request, reply) => {
      received.push({ method: 'GET', url: request.url, headers: request.headers, bytes: Buffer.alloc(0) });
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', 'attachment; filename="a.pdf"')
        .header('x-content-type-options', 'nosniff')
        .header('set-cookie', 'internal=1')
        .header('x-internal-detail', 'not for clients')
        .send(Buffer.from('%PDF-1.4\n'));
    });
    await documents.listen({ host: '127.0.0.1', port: 0 });
    const documentsPort = (documents.server.address() as AddressInfo).port;

    gateway = createHttpServer({ service: 'gateway', logLevel: 'silent', requestTimeoutMs: 10_000 });
    await registerDocumentTransfers(gateway, {
      documentsUrl: `http://127.0.0.1:${documentsPort}/graphql`,
      timeoutMs: 5_000,
      authenticate: async () => contextAs(role),
    });
    await gateway.listen({ host: '127.0.0.1', port: 0 });
    gatewayOrigin = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await gateway.close();
    await documents.close();
  });
  beforeEach(() => {
    received.length = 0;
    answerEarly = false;
    role = 'ADMIN';
  });

  const upload = (path: string, body: Buffer | ReadableStream<Uint8Array>) =>
    fetch(`${gatewayOrigin}${path}`, {
      method: 'PUT',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/pdf' },
    });

  it('streams the bytes through unchanged, signed for the documents service, with the ticket in a header', async () => {
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3 * 1024 * 1024, 7)]);
    const response = await upload(`/uploads/${workspaceId}/${ticket}`, file);
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { document: { id: 'd' } });
    const [call] = received;
    assert.ok(call !== undefined);
    assert.equal(call.url, '/internal/uploads');
    assert.equal(call.headers['x-numezis-ticket'], ticket);
    assert.equal(call.headers['content-length'], String(file.length));
    assert.equal(
      createHash('sha256').update(call.bytes).digest('hex'),
      createHash('sha256').update(file).digest('hex'),
    );
    const verified = verifier.verify(call.headers[contextHeader] as string);
    assert.ok(verified.ok);
    assert.equal(verified.context.access.kind, 'tenant');
  });

  it('never forwards what cannot be a ticket we issued', async () => {
    for (const path of [`/uploads/${workspaceId}/short`, `/uploads/not-a-workspace/${ticket}`]) {
      assert.equal((await upload(path, Buffer.from('%PDF-'))).status, 201);
    }
    assert.deepEqual(
      received.map((call) => call.headers['x-numezis-ticket']),
      [undefined, undefined],
    );
  });

  it('refuses anonymous callers and missing permissions before anything reaches the documents service', async () => {
    role = null;
    const anonymous = await upload(`/uploads/${workspaceId}/${ticket}`, Buffer.alloc(1024 * 1024));
    assert.equal(anonymous.status, 401);
    role = 'VIEWER';
    const viewer = await upload(`/uploads/${workspaceId}/${ticket}`, Buffer.alloc(1024 * 1024));
    assert.equal(viewer.status, 403);
    assert.deepEqual(
      ((await viewer.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]?.extensions.permission,
      'documents.write',
    );
    assert.deepEqual(received, []);
    // Reading is a Viewer's right.
    assert.equal((await fetch(`${gatewayOrigin}/downloads/${workspaceId}/${ticket}`)).status, 200);
  });

  it("relays an early refusal while the client is still sending, and stops reading the client's body", async () => {
    answerEarly = true;
    let pulled = 0;
    const offered = 256 * 1024 * 1024;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= offered) return controller.close();
        pulled += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const response = await upload(`/uploads/${workspaceId}/${ticket}`, body);
    assert.equal(response.status, 413);
    assert.equal(
      ((await response.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]?.extensions.code,
      'PAYLOAD_TOO_LARGE',
    );
    await body.cancel().catch(() => undefined);
    assert.ok(pulled < 64 * 1024 * 1024, `${pulled} bytes were read`);
  });

  it('passes only the download headers a client needs, and sandboxes the content', async () => {
    const response = await fetch(`${gatewayOrigin}/downloads/${workspaceId}/${ticket}`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '%PDF-1.4\n');
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="a.pdf"');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.equal(response.headers.get('set-cookie'), null);
    assert.equal(response.headers.get('x-internal-detail'), null);
    assert.equal(received[0]?.headers['x-numezis-ticket'], ticket);
  });

  it('names the documents service, and nothing more, when it cannot be reached', async () => {
    const unreachable = createHttpServer({ service: 'gateway', logLevel: 'silent', requestTimeoutMs: 10_000 });
    await registerDocumentTransfers(unreachable, {
      documentsUrl: 'http://127.0.0.1:1/graphql',
      timeoutMs: 1_000,
      authenticate: async () => contextAs('ADMIN'),
    });
    try {
      for (const request of [
        { method: 'PUT' as const, url: `/uploads/${workspaceId}/${ticket}`, payload: Buffer.from('%PDF-') },
        { method: 'GET' as const, url: `/downloads/${workspaceId}/${ticket}` },
      ]) {
        const response = await unreachable.inject(request);
        assert.equal(response.statusCode, 503);
        const { extensions } = response.json<{ errors: { extensions: Record<string, unknown> }[] }>().errors[0] ?? {};
        assert.deepEqual([extensions?.code, extensions?.serviceName], ['SUBGRAPH_UNAVAILABLE', 'documents']);
        assert.doesNotMatch(response.body, /127\.0\.0\.1|ECONNREFUSED/);
      }
    } finally {
      await unreachable.close();
    }
  });
});
