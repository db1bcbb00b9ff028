import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../clock.ts';
import {
  createContextSigner,
  createContextVerifier,
  generateContextKeyPair,
  parseSigningKey,
  parseVerifyKeys,
  requestTokenCache,
} from './signed-context.ts';
import type { ForwardedContext } from './signed-context.ts';

const context: ForwardedContext = {
  requestId: 'req-1',
  clientIp: '203.0.113.7',
  userAgent: 'test-agent',
  actor: {
    kind: 'user',
    userId: '0b6f1f7e-6a3f-4b47-9d5e-1f1f1f1f1f1f',
    sessionId: '5d1c1a7e-6a3f-4b47-9d5e-2f2f2f2f2f2f',
  },
  access: {
    kind: 'tenant',
    tenantId: '6f9c3d1a-2b4e-4c5d-8e7f-0a1b2c3d4e5f',
    role: 'VIEWER',
    permissions: ['workspace.read', 'accounting.read'],
  },
  mfaAt: 1_700_000_000,
  mfaRequired: false,
};

function setup() {
  const current = generateContextKeyPair('k1');
  const clock = manualClock(1_700_000_000_000);
  const signer = createContextSigner({ key: parseSigningKey(current.signingKey), clock });
  const verifier = createContextVerifier({ keys: parseVerifyKeys(current.verifyKey), audience: 'accounting', clock });
  return { current, clock, signer, verifier };
}

describe('signed context between gateway and subgraphs', () => {
  it('round-trips the context for the intended audience', () => {
    const { signer, verifier } = setup();
    assert.deepEqual(verifier.verify(signer.sign(context, 'accounting')), { ok: true, context });
  });

  it('refuses a token minted for another subgraph', () => {
    const { signer, verifier } = setup();
    assert.deepEqual(verifier.verify(signer.sign(context, 'identity')), { ok: false, reason: 'wrong-audience' });
  });

  it('refuses a missing, malformed or tampered token', () => {
    const { signer, verifier } = setup();
    assert.deepEqual(verifier.verify(undefined), { ok: false, reason: 'missing' });
    assert.deepEqual(verifier.verify('not-a-token'), { ok: false, reason: 'malformed' });
    const [header, payload, signature] = signer.sign(context, 'accounting').split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        ctx: { ...context, tenantId: null },
      }),
    ).toString('base64url');
    assert.deepEqual(verifier.verify(`${header}.${forged}.${signature}`), { ok: false, reason: 'bad-signature' });
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    assert.deepEqual(verifier.verify(`${header}.${payload}.${flipped.toString('base64url')}`), {
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a token signed with a key the subgraph does not know', () => {
    const { verifier, clock } = setup();
    const stranger = createContextSigner({ key: parseSigningKey(generateContextKeyPair('k1').signingKey), clock });
    assert.deepEqual(verifier.verify(stranger.sign(context, 'accounting')), { ok: false, reason: 'bad-signature' });
    const unknownKid = createContextSigner({ key: parseSigningKey(generateContextKeyPair('k9').signingKey), clock });
    assert.deepEqual(verifier.verify(unknownKid.sign(context, 'accounting')), { ok: false, reason: 'unknown-key' });
  });

  it('expires after at most a minute', () => {
    const { signer, verifier, clock } = setup();
    const token = signer.sign(context, 'accounting');
    clock.advance(59_000);
    assert.equal(verifier.verify(token).ok, true);
    clock.advance(7_000);
    assert.deepEqual(verifier.verify(token), { ok: false, reason: 'expired' });
  });

  it('refuses a token issued in the future', () => {
    const { current, verifier, clock } = setup();
    const future = manualClock(clock.now() + 120_000);
    const signer = createContextSigner({ key: parseSigningKey(current.signingKey), clock: future });
    assert.deepEqual(verifier.verify(signer.sign(context, 'accounting')), { ok: false, reason: 'not-yet-valid' });
  });

  it('accepts both keys during a rotation', () => {
    const { current, clock } = setup();
    const next = generateContextKeyPair('k2');
    const verifier = createContextVerifier({
      keys: parseVerifyKeys(`${current.verifyKey},${next.verifyKey}`),
      audience: 'audit',
      clock,
    });
    for (const key of [current, next]) {
      const signer = createContextSigner({ key: parseSigningKey(key.signingKey), clock });
      assert.equal(verifier.verify(signer.sign(context, 'audit')).ok, true);
    }
  });

  it('carries an API key as the actor', () => {
    const { signer, verifier } = setup();
    const asKey: ForwardedContext = {
      ...context,
      actor: { kind: 'apiKey', keyId: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' },
    };
    assert.deepEqual(verifier.verify(signer.sign(asKey, 'accounting')), { ok: true, context: asKey });
  });

  it('refuses claims of the wrong shape even when signed', () => {
    const { signer, verifier } = setup();
    for (const bad of [
      { ...context, access: { ...context.access, tenantId: "x' or 1=1" } },
      { ...context, access: { ...context.access, role: 'OWNER' } },
      { ...context, access: { ...context.access, permissions: ['accounting.read', 'everything'] } },
      { ...context, access: { kind: 'system', job: 'purge' } },
      { ...context, access: { kind: 'anonymous' } },
      {
        ...context,
        access: { kind: 'portfolio', firmTenantId: '6f9c3d1a-2b4e-4c5d-8e7f-0a1b2c3d4e5f', clients: [] },
        actor: { kind: 'apiKey', keyId: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' },
      },
      { ...context, actor: { kind: 'user', userId: 'someone' } },
      { ...context, mfaRequired: 'no' },
    ]) {
      assert.deepEqual(verifier.verify(signer.sign(bad as unknown as ForwardedContext, 'accounting')), {
        ok: false,
        reason: 'bad-claims',
      });
    }
  });

  it('signs once per audience per request', () => {
    const { signer } = setup();
    let signatures = 0;
    const counting = {
      sign: (ctx: ForwardedContext, audience: string) => {
        signatures += 1;
        return signer.sign(ctx, audience);
      },
    };
    const tokenFor = requestTokenCache(counting, context);
    for (const audience of ['identity', 'accounting', 'identity', 'accounting', 'identity']) tokenFor(audience);
    assert.equal(signatures, 2);
  });

  it('rejects malformed key settings with a message', () => {
    assert.throws(() => parseSigningKey('nokid'), /key id/);
    assert.throws(() => parseSigningKey('k1:short'), /32 bytes/);
    assert.throws(() => parseVerifyKeys(''), /at least one/);
    const { verifyKey } = generateContextKeyPair('k1');
    assert.throws(() => parseVerifyKeys(`${verifyKey},${verifyKey}`), /twice/);
  });
});
