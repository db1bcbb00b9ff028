import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@numezis/runtime/config/reader';
import { generateContextKeyPair } from '@numezis/runtime/context/signed-context';
import { readGatewayConfig } from './config.ts';

const base = { CONTEXT_SIGNING_KEY: generateContextKeyPair('k1').signingKey };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readGatewayConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('gateway configuration', () => {
  it('authenticates sessions on loopback port 4000 on the committed supergraph by default', () => {
    const config = readGatewayConfig(base);
    assert.equal(config.authMode, 'session');
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 4000);
    assert.match(config.supergraphPath, /schema\/supergraph\.graphql$/);
  });

  it('takes subgraph URL overrides by name', () => {
    const config = readGatewayConfig({ ...base, GATEWAY_SUBGRAPH_URL_AUDIT: 'http://audit:4004/graphql' });
    assert.deepEqual(config.subgraphUrls, { audit: 'http://audit:4004/graphql' });
    assert.ok(
      problemsOf({ ...base, GATEWAY_SUBGRAPH_URL_AUDIT: 'audit:4004' })[0]?.startsWith('GATEWAY_SUBGRAPH_URL_AUDIT'),
    );
  });

  it('takes an identity URL and a field-policy file for a foreign supergraph', () => {
    const config = readGatewayConfig({
      ...base,
      GATEWAY_IDENTITY_URL: 'http://identity:4001/graphql',
      GATEWAY_FIELD_POLICY_PATH: '/etc/numezis/policies.json',
    });
    assert.equal(config.identityUrl, 'http://identity:4001/graphql');
    assert.equal(config.fieldPolicyPath, '/etc/numezis/policies.json');
    assert.equal(readGatewayConfig(base).identityUrl, null);
    assert.ok(problemsOf({ ...base, GATEWAY_IDENTITY_URL: 'identity:4001' })[0]?.startsWith('GATEWAY_IDENTITY_URL'));
  });

  it('refuses to turn authentication off in production', () => {
    const problems = problemsOf({ ...base, NODE_ENV: 'production', GATEWAY_AUTH_MODE: 'off' });
    assert.ok(problems.some((problem) => problem.startsWith('GATEWAY_AUTH_MODE')));
  });

  it('takes browser origins as an explicit list', () => {
    assert.deepEqual(readGatewayConfig({ ...base, GATEWAY_CORS_ORIGINS: 'https://app.numezis.ch' }).corsOrigins, [
      'https://app.numezis.ch',
    ]);
    assert.ok(problemsOf({ ...base, GATEWAY_CORS_ORIGINS: '*' })[0]?.startsWith('GATEWAY_CORS_ORIGINS'));
  });

  it('requires a signing key and names it', () => {
    assert.ok(problemsOf({}).some((problem) => problem.startsWith('CONTEXT_SIGNING_KEY')));
    assert.ok(
      problemsOf({ CONTEXT_SIGNING_KEY: 'k1:tooshort' }).some((problem) => problem.startsWith('CONTEXT_SIGNING_KEY')),
    );
  });

  it('takes a certificate and key together, and a redirect port only with them', () => {
    const tls = { GATEWAY_TLS_CERT_FILE: '/etc/tls/cert.pem', GATEWAY_TLS_KEY_FILE: '/etc/tls/key.pem' };
    const config = readGatewayConfig({ ...base, ...tls, GATEWAY_HTTP_REDIRECT_PORT: '8080' });
    assert.deepEqual(config.tls, { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' });
    assert.equal(config.httpRedirectPort, 8080);
    assert.equal(readGatewayConfig(base).tls, null);
    assert.ok(
      problemsOf({ ...base, GATEWAY_TLS_CERT_FILE: '/etc/tls/cert.pem' }).some((problem) =>
        problem.startsWith('GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE'),
      ),
    );
    assert.ok(
      problemsOf({ ...base, GATEWAY_HTTP_REDIRECT_PORT: '8080' }).some((problem) =>
        problem.startsWith('GATEWAY_HTTP_REDIRECT_PORT'),
      ),
    );
  });
});
