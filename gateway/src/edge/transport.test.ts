import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import type { Env } from '@numezis/runtime/config/reader';
import { createGateway } from '../app.ts';
import type { Gateway } from '../app.ts';
import { readGatewayConfig } from '../config.ts';

const signingKey = generateContextKeyPair('k1').signingKey;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const gatewayWith = (env: Env) =>
  createGateway(readGatewayConfig({ CONTEXT_SIGNING_KEY: signingKey, LOG_LEVEL: 'warn', ...env }));

/** Resolves with the TLS version agreed, or rejects with the handshake's error. */
function handshake(port: number, options: { minVersion?: 'TLSv1.3'; maxVersion?: 'TLSv1.2'; ca: Buffer }) {
  return new Promise<string | null>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve(protocol);
    });
    socket.once('error', reject);
  });
}

describe('the gateway over HTTPS', () => {
  let dir: string;
  let cert: Buffer;
  let gateway: Gateway;
  let port: number;
  let redirectPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-tls-'));
    // A throw-away self-signed certificate for localhost, made by Debian's openssl.
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    cert = await readFile(join(dir, 'cert.pem'));
    port = await freePort();
    gateway = await gatewayWith({
      GATEWAY_AUTH_MODE: 'off',
      GATEWAY_PORT: String(port),
      GATEWAY_TLS_CERT_FILE: join(dir, 'cert.pem'),
      GATEWAY_TLS_KEY_FILE: join(dir, 'key.pem'),
      GATEWAY_HTTP_REDIRECT_PORT: '0',
    });
    await gateway.app.listen({ host: '127.0.0.1', port });
    await gateway.httpsRedirect?.listen({ host: '127.0.0.1', port: 0 });
    redirectPort = (gateway.httpsRedirect?.server.address() as AddressInfo).port;
  });
  after(async () => {
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a TLS 1.2 handshake and accepts TLS 1.3', async () => {
    await assert.rejects(handshake(port, { maxVersion: 'TLSv1.2', ca: cert }), /protocol version|alert/i);
    assert.equal(await handshake(port, { minVersion: 'TLSv1.3', ca: cert }), 'TLSv1.3');
  });

  it('sends HSTS with preload and the usual security headers on every response', async () => {
    const response = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: '/no-such-path', servername: 'localhost', ca: cert }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      })
        .once('error', reject)
        .end();
    });
    assert.equal(response.status, 404);
    assert.equal(response.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains; preload');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
  });

  it('redirects plain HTTP to HTTPS on the same host, keeping method, path and query', async () => {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`http://localhost:${redirectPort}/graphql?query=%7B__typename%7D`, {
        method,
        redirect: 'manual',
        ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
      });
      assert.equal(response.status, 308, method);
      assert.equal(response.headers.get('location'), `https://localhost:${port}/graphql?query=%7B__typename%7D`);
      assert.equal(response.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains; preload');
    }
  });
});

describe('the gateway behind a TLS-terminating load balancer', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await gatewayWith({ GATEWAY_AUTH_MODE: 'off', GATEWAY_TRUST_PROXY: '10.0.0.1' });
  });
  after(() => gateway?.close());

  const get = (url: string, headers: Record<string, string>, remoteAddress = '10.0.0.1') =>
    gateway.app.inject({ method: 'GET', url, headers, remoteAddress });

  it('redirects what the proxy received over HTTP, but keeps health probes answerable', async () => {
    const redirected = await get('/graphql?query=x', { host: 'api.numezis.ch', 'x-forwarded-proto': 'http' });
    assert.equal(redirected.statusCode, 308);
    assert.equal(redirected.headers.location, 'https://api.numezis.ch/graphql?query=x');
    assert.equal((await get('/livez', { host: 'api.numezis.ch', 'x-forwarded-proto': 'http' })).statusCode, 200);
    const secure = await get('/.well-known/security.txt', { host: 'api.numezis.ch', 'x-forwarded-proto': 'https' });
    assert.equal(secure.statusCode, 200);
  });

  it('believes X-Forwarded-Proto only from the configured proxy', async () => {
    // Another peer claims HTTPS over a plain connection: the claim is ignored, the request redirected.
    const forged = await get('/graphql', { host: 'api.numezis.ch', 'x-forwarded-proto': 'https' }, '203.0.113.9');
    assert.equal(forged.statusCode, 308);
  });
});

const productionEnv = {
  NODE_ENV: 'production',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  // Nothing listens there: refusals wait in the buffer, as they would while the audit subgraph is down.
  AUDIT_INGEST_URL: 'http://127.0.0.1:9/internal/audit/events',
  AUDIT_INGEST_TOKEN: 'x'.repeat(32),
};

describe('the gateway in production posture', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await gatewayWith(productionEnv);
  });
  after(() => gateway?.close());

  const post = (query: string) =>
    gateway.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ query }),
    });

  it('answers no introspection and no "did you mean" that would map the schema', async () => {
    const introspection = await post('{ __schema { types { name } } }');
    assert.equal(introspection.statusCode, 400);
    assert.match(introspection.body, /introspection is not allowed/i);
    const typo = await post('{ workspaec { id } }');
    assert.equal(typo.statusCode, 400);
    assert.match(typo.body, /GRAPHQL_VALIDATION_FAILED/);
    assert.doesNotMatch(typo.body, /Did you mean/i);
    assert.doesNotMatch(typo.body, /workspace/);
  });

  it('refuses a simple cross-site form post (CSRF prevention)', async () => {
    const response = await gateway.app.inject({
      method: 'GET',
      url: '/graphql?query=%7B__typename%7D',
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /CSRF|preflight/i);
  });

  it('keeps its metrics to itself without METRICS_TOKEN, and asks for the token with one', async () => {
    assert.equal((await gateway.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    const token = 'a-metrics-token-of-24-characters';
    const guarded = await gatewayWith({ ...productionEnv, METRICS_TOKEN: token });
    try {
      await guarded.app.inject({ method: 'GET', url: '/livez' });
      assert.equal((await guarded.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      const wrong = await guarded.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token.replace('a', 'b')}` },
      });
      assert.equal(wrong.statusCode, 401);
      const read = await guarded.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(read.statusCode, 200);
      assert.match(read.body, /^numezis_http_requests_total\{[^}]*route="\/livez"[^}]*\} 1$/m);
    } finally {
      await guarded.close();
    }
  });

  it('forbids every content source and framing, and serves security.txt', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/.well-known/security.txt' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    assert.match(response.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(response.body, /^Contact: mailto:security@numezis\.com$/m);
    const expires = /^Expires: (.+)$/m.exec(response.body)?.[1] ?? '';
    const days = (Date.parse(expires) - Date.now()) / 86_400_000;
    // RFC 9116: required, and no more than a year ahead.
    assert.ok(days > 300 && days <= 365, expires);
  });
});
