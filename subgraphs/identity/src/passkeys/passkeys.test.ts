import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { openMigratedTestDatabase, manualClock } from '@numezis/runtime';
import type { DataAccess } from '@numezis/runtime';
import { createSecretBox } from '../crypto/secret-box.ts';
import { migrationsDir } from '../paths.ts';
import { passkeys, sessions, users } from '../tables.ts';
import { beginAuthentication, beginRegistration, finishRegistration, verifyAssertion } from './passkeys.ts';
import type { PasskeyDependencies } from './passkeys.ts';
import type { ChallengeBinding } from './challenges.ts';
import { SoftAuthenticator, testRelyingParty } from './soft-authenticator.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const { origin, rpId } = testRelyingParty;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

const codeOf = (error: unknown) => (error as { extensions?: { code?: unknown } }).extensions?.code;
const rejectsWith = (code: string) => (error: unknown) => codeOf(error) === code;

describe('passkeys', () => {
  let close: () => Promise<void>;
  let dataAccess: DataAccess;
  const clock = manualClock(Date.parse('2026-03-01T09:00:00Z'));
  let dependencies: PasskeyDependencies;

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, 'identity', migrationsDir));
    const box = createSecretBox(randomBytes(32), 's1');
    dependencies = {
      dataAccess,
      secretBox: {
        seal: (value, aad) => box.seal(value, aad),
        open: async (sealed, aad) => box.open(sealed, aad),
        currentVersion: 1,
      },
      webauthn: { rpId, rpName: 'Numezis', origins: [origin] },
      clock,
    };
  });
  after(() => close());

  /** A person with one session, which passed no second factor. */
  async function person(): Promise<{ userId: string; sessionId: string }> {
    const userId = randomUUID();
    const sessionId = randomUUID();
    const now = new Date(clock.now());
    await dataAccess.unsafeUnscoped(async (tx) => {
      await tx.insert(users).values({ id: userId, displayName: 'Test', email: `${userId}@example.ch` });
      await tx.insert(sessions).values({
        id: sessionId,
        userId,
        tokenHash: randomBytes(32),
        authenticatedWith: 'PASSWORD',
        createdAt: now,
        lastSeenAt: now,
        expiresAt: new Date(clock.now() + 3_600_000),
      });
    });
    return { userId, sessionId };
  }

  async function registered(): Promise<{ userId: string; sessionId: string; authenticator: SoftAuthenticator }> {
    const caller = await person();
    const authenticator = new SoftAuthenticator();
    const options = await beginRegistration(dependencies, { ...caller, mfaAt: null });
    await finishRegistration(dependencies, caller, { response: authenticator.create(options), name: 'Laptop' });
    return { ...caller, authenticator };
  }

  const anonymous: ChallengeBinding = { purpose: 'AUTHENTICATE', sessionId: null, allowUnbound: true };
  const signIn = async (authenticator: SoftAuthenticator, options: Parameters<SoftAuthenticator['get']>[1] = {}) =>
    verifyAssertion(dependencies, {
      response: authenticator.get(await beginAuthentication(dependencies, null), options),
      binding: anonymous,
    });

  beforeEach(() => clock.advance(1_000));

  it('registers a passkey with the key sealed, and signs in with it', async () => {
    const { userId, authenticator } = await registered();
    const [row] = await dataAccess.inScope({ userId }, (tx) =>
      tx.select().from(passkeys).where(eq(passkeys.userId, userId)),
    );
    assert.equal(row?.credentialId, b64(authenticator.credentialId));
    assert.equal(row?.name, 'Laptop');
    assert.match(row?.publicKeySealed ?? '', /^v1\.s1\./);

    assert.equal((await signIn(authenticator)).userId, userId);
    const [after] = await dataAccess.inScope({ userId }, (tx) =>
      tx.select().from(passkeys).where(eq(passkeys.userId, userId)),
    );
    assert.equal(after?.counter, 1);
    assert.notEqual(after?.lastUsedAt, null);
  });

  it('asks for user verification at registration and refuses a passkey created without it', async () => {
    const caller = await person();
    const options = JSON.parse(await beginRegistration(dependencies, { ...caller, mfaAt: null })) as {
      authenticatorSelection: unknown;
      rp: unknown;
    };
    assert.deepEqual(options.authenticatorSelection, {
      residentKey: 'preferred',
      userVerification: 'required',
      requireResidentKey: false,
    });
    assert.deepEqual(options.rp, { name: 'Numezis', id: rpId });
    const again = await beginRegistration(dependencies, { ...caller, mfaAt: null });
    await assert.rejects(
      finishRegistration(dependencies, caller, {
        response: new SoftAuthenticator().create(again, { userVerified: false }),
        name: 'No PIN',
      }),
      rejectsWith('BAD_USER_INPUT'),
    );
  });

  it('refuses an assertion without user verification, and one whose counter did not go up', async () => {
    const { authenticator } = await registered();
    await assert.rejects(signIn(authenticator, { userVerified: false }), rejectsWith('UNAUTHENTICATED'));
    await signIn(authenticator);
    await assert.rejects(signIn(authenticator, { countUp: false }), rejectsWith('UNAUTHENTICATED'));
    await signIn(authenticator);
  });

  it('accepts an authenticator without a counter (always zero)', async () => {
    const { userId, authenticator } = await registered();
    assert.equal((await signIn(authenticator, { countUp: false })).userId, userId);
    assert.equal((await signIn(authenticator, { countUp: false })).userId, userId);
  });

  it('spends a challenge once, even on a failed attempt, and lets it expire after two minutes', async () => {
    const { authenticator } = await registered();
    const response = authenticator.get(await beginAuthentication(dependencies, null));
    await verifyAssertion(dependencies, { response, binding: anonymous });
    await assert.rejects(verifyAssertion(dependencies, { response, binding: anonymous }), rejectsWith('NOT_FOUND'));

    const options = await beginAuthentication(dependencies, null);
    await assert.rejects(
      verifyAssertion(dependencies, {
        response: authenticator.get(options, { userVerified: false }),
        binding: anonymous,
      }),
      rejectsWith('UNAUTHENTICATED'),
    );
    await assert.rejects(
      verifyAssertion(dependencies, { response: authenticator.get(options), binding: anonymous }),
      rejectsWith('NOT_FOUND'),
    );

    const stale = await beginAuthentication(dependencies, null);
    clock.advance(2 * 60_000 + 1);
    await assert.rejects(
      verifyAssertion(dependencies, { response: authenticator.get(stale), binding: anonymous }),
      rejectsWith('NOT_FOUND'),
    );
  });

  it('binds a registration challenge to the session that asked for it', async () => {
    const caller = await person();
    const other = await person();
    const authenticator = new SoftAuthenticator();
    const options = await beginRegistration(dependencies, { ...caller, mfaAt: null });
    await assert.rejects(
      finishRegistration(dependencies, other, { response: authenticator.create(options), name: 'Stolen' }),
      rejectsWith('NOT_FOUND'),
    );
    await assert.rejects(
      finishRegistration(
        dependencies,
        { ...caller, sessionId: other.sessionId },
        {
          response: authenticator.create(options),
          name: 'Stolen',
        },
      ),
      rejectsWith('NOT_FOUND'),
    );
  });

  it('refuses a registration from an origin that is not configured', async () => {
    const caller = await person();
    const authenticator = new SoftAuthenticator();
    const options = await beginRegistration(dependencies, { ...caller, mfaAt: null });
    await assert.rejects(
      finishRegistration(dependencies, caller, {
        response: authenticator.create(options, { origin: 'https://evil.test' }),
        name: 'Phished',
      }),
      rejectsWith('BAD_USER_INPUT'),
    );
  });

  it('binds a second-factor challenge to its session and the passkey to its owner', async () => {
    const { userId, sessionId, authenticator } = await registered();
    const intruder = await person();
    const bound = (caller: { userId: string; sessionId: string }): ChallengeBinding => ({
      purpose: 'AUTHENTICATE',
      userId: caller.userId,
      sessionId: caller.sessionId,
      allowUnbound: false,
    });
    // An anonymous challenge cannot serve as this session's second factor.
    const unbound = await beginAuthentication(dependencies, null);
    await assert.rejects(
      verifyAssertion(dependencies, {
        response: authenticator.get(unbound),
        userId,
        binding: bound({ userId, sessionId }),
      }),
      rejectsWith('NOT_FOUND'),
    );
    // Another person's passkey is no second factor for this person.
    const theirs = await beginAuthentication(dependencies, intruder);
    await assert.rejects(
      verifyAssertion(dependencies, {
        response: authenticator.get(theirs),
        userId: intruder.userId,
        binding: bound(intruder),
      }),
      rejectsWith('UNAUTHENTICATED'),
    );
    const own = await beginAuthentication(dependencies, { userId, sessionId });
    assert.deepEqual(
      (JSON.parse(own) as { allowCredentials: { id: string }[] }).allowCredentials.map((entry) => entry.id),
      [b64(authenticator.credentialId)],
    );
    const result = await verifyAssertion(dependencies, {
      response: authenticator.get(own),
      userId,
      binding: bound({ userId, sessionId }),
    });
    assert.equal(result.userId, userId);
  });

  it('does not verify with a key moved to another person', async () => {
    const { userId, authenticator } = await registered();
    const other = await person();
    await dataAccess.inScope({ userId }, (tx) =>
      tx.update(passkeys).set({ userId: other.userId }).where(eq(passkeys.userId, userId)),
    );
    await assert.rejects(signIn(authenticator), rejectsWith('UNAUTHENTICATED'));
  });

  it('needs the second factor before another one is added', async () => {
    const { userId, sessionId } = await registered();
    await assert.rejects(beginRegistration(dependencies, { userId, sessionId, mfaAt: null }), rejectsWith('FORBIDDEN'));
    await beginRegistration(dependencies, { userId, sessionId, mfaAt: Math.floor(clock.now() / 1000) });
  });

  it('answers malformed responses as bad input', async () => {
    const caller = await person();
    for (const response of ['not json', '{}', JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key' })]) {
      await assert.rejects(
        verifyAssertion(dependencies, { response, binding: anonymous }),
        rejectsWith('BAD_USER_INPUT'),
      );
      await assert.rejects(
        finishRegistration(dependencies, caller, { response, name: 'x' }),
        rejectsWith('BAD_USER_INPUT'),
      );
    }
  });
});
