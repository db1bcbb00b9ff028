import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { buildSchema } from 'graphql';
import type { GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import {
  addLocalKmsVersion,
  anonymousContext,
  canonicalAad,
  currentStep,
  destroyLocalKmsVersion,
  manualClock,
  openLocalKms,
  openMigratedTestDatabase,
  totpCode,
} from '@numezis/runtime';
import type { Clock, DataAccess, KeyManagementService } from '@numezis/runtime';
import { auditMutationsTransformer } from '@numezis/runtime/audit/mutation-audit';
import { createThrottle } from '../auth/throttle.ts';
import { readIdentitySettings } from '../config.ts';
import type { IdentityContext } from '../context.ts';
import { migrationsDir } from '../paths.ts';
import { mfaResolvers } from '../resolvers/mfa.ts';
import { serviceKeys, sessions, users } from '../tables.ts';
import { createSecretBox } from './secret-box.ts';
import { loadServiceSecretBox, rewrapServiceKeys, rotateServiceKey, serviceKeyAad } from './service-key.ts';
import type { ServiceSecretBox } from './service-key.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise; a fresh database per
// test, since the service key table is the whole service's.
const secret = Buffer.from('per-user secret');
const aad = 'identity.users.totp_secret:00000000-0000-4000-8000-000000000001';

type Resolver = GraphQLFieldResolver<unknown, IdentityContext>;

/**
 * Mutation resolvers as the service runs them: inside the audit wrapper, since each records its
 * change in the audit outbox and may only do so within an audited mutation.
 */
function audited<Mutations extends Record<string, Resolver>>(
  mutations: Mutations,
  dependencies: { dataAccess: DataAccess; clock: Clock },
): Mutations {
  const names = Object.keys(mutations);
  const schema = buildSchema(
    `type Query { unused: Boolean } type Mutation { ${names.map((name) => `${name}: Boolean`).join(' ')} }`,
  );
  const declared = schema.getMutationType()?.getFields() ?? {};
  for (const name of names) {
    const field = declared[name];
    const resolve = mutations[name];
    if (field !== undefined && resolve !== undefined) field.resolve = resolve;
  }
  const wrap = auditMutationsTransformer({ service: 'identity', ...dependencies, log: { error: () => undefined } });
  const fields = wrap(schema).getMutationType()?.getFields() ?? {};
  const run =
    (name: string): Resolver =>
    (source, args, context) =>
      fields[name]?.resolve?.(source, args, context, {} as GraphQLResolveInfo);
  return Object.fromEntries(names.map((name) => [name, run(name)])) as Mutations;
}

/** The KMS, with a copy of every plaintext it was asked to wrap: the service keys it made. */
function recording(kms: KeyManagementService, beforeEncrypt?: () => Promise<void>) {
  const wrappedKeys: Buffer[] = [];
  const recorded: KeyManagementService = {
    provider: kms.provider,
    keyName: kms.keyName,
    async encrypt(plaintext, wrapAad) {
      wrappedKeys.push(Buffer.from(plaintext));
      await beforeEncrypt?.();
      return kms.encrypt(plaintext, wrapAad);
    },
    decrypt: (ciphertext, wrapAad) => kms.decrypt(ciphertext, wrapAad),
    workspaceKey: (tenantId) => kms.workspaceKey(tenantId),
    destroyWorkspaceKey: (tenantId) => kms.destroyWorkspaceKey(tenantId),
    close: () => kms.close(),
  };
  return { kms: recorded, wrappedKeys };
}

const storedRows = (dataAccess: DataAccess) =>
  dataAccess.unsafeUnscoped((tx) => tx.select().from(serviceKeys).orderBy(serviceKeys.version));

describe('identity service key', () => {
  let dir: string;
  let keyFile: string;
  let kms: KeyManagementService;
  let dataAccess: DataAccess;
  let close: () => Promise<void>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'numezis-service-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    keyFile = join(dir, `${randomUUID()}.json`);
    kms = await openLocalKms({ environment: 'test', keyFile });
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, 'identity', migrationsDir));
  });
  afterEach(() => close());

  it('is created once, at first start, and stored only wrapped', async () => {
    const recorded = recording(kms);
    const box = await loadServiceSecretBox({ dataAccess, kms: recorded.kms });
    assert.equal(box.currentVersion, 1);
    assert.equal(recorded.wrappedKeys.length, 1);
    const key = recorded.wrappedKeys[0] ?? Buffer.alloc(0);
    assert.equal(key.length, 32);
    // The recorded plaintext is the key the box seals with.
    assert.deepEqual(createSecretBox(key, 's1').open(box.seal(secret, aad), aad), secret);

    const rows = await storedRows(dataAccess);
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row?.version, 1);
    assert.equal(row?.kmsKeyVersion, 'local/cryptoKeyVersions/1');
    assert.equal(row?.retiredAt, null);
    for (const value of Object.values(row ?? {})) {
      if (Buffer.isBuffer(value)) assert.equal(value.indexOf(key), -1, 'a column holds the key in the clear');
      else
        assert.ok(!String(value).includes(key.toString('base64url')) && !String(value).includes(key.toString('hex')));
    }
    const wrapped = row?.wrapped ?? Buffer.alloc(0);
    assert.deepEqual(await kms.decrypt(wrapped, serviceKeyAad(1)), key);
    // Bound to its version and its service: under any other AAD it does not unwrap.
    await assert.rejects(kms.decrypt(wrapped, serviceKeyAad(2)));
    await assert.rejects(kms.decrypt(wrapped, canonicalAad(['numezis.service-key', 'v1', 'accounting', '1'])));
    await assert.rejects(kms.decrypt(wrapped, Buffer.alloc(0)));

    // The next start finds it: no new key, and what the first sealed opens.
    const again = recording(kms);
    const restarted = await loadServiceSecretBox({ dataAccess, kms: again.kms });
    assert.equal(again.wrappedKeys.length, 0);
    assert.deepEqual(await restarted.open(box.seal(secret, aad), aad), secret);
    assert.equal((await storedRows(dataAccess)).length, 1);
  });

  it('shows no key material when printed', async () => {
    const recorded = recording(kms);
    const box = await loadServiceSecretBox({ dataAccess, kms: recorded.kms });
    const key = recorded.wrappedKeys[0] ?? Buffer.alloc(0);
    const printed = `${inspect(box, { depth: 10, showHidden: true })} ${JSON.stringify(box)}`;
    for (const encoding of ['hex', 'base64', 'base64url'] as const)
      assert.ok(!printed.includes(key.toString(encoding)));
  });

  it('is shared by services starting together on one database', async () => {
    // Both find the table empty and both wrap a key before either stores one.
    let waiting = 0;
    let release: () => void = () => undefined;
    const bothWrapping = new Promise<void>((resolve) => {
      release = resolve;
    });
    const barrier = async () => {
      waiting++;
      if (waiting === 2) release();
      await bothWrapping;
    };
    const a = recording(kms, barrier);
    const b = recording(kms, barrier);
    const [boxA, boxB] = await Promise.all([
      loadServiceSecretBox({ dataAccess, kms: a.kms }),
      loadServiceSecretBox({ dataAccess, kms: b.kms }),
    ]);
    assert.equal(a.wrappedKeys.length + b.wrappedKeys.length, 2);
    assert.equal((await storedRows(dataAccess)).length, 1);
    assert.deepEqual(await boxB.open(boxA.seal(secret, aad), aad), secret);
    assert.deepEqual(await boxA.open(boxB.seal(secret, aad), aad), secret);
  });

  it('rotates: a new version seals, older ones keep opening, running services catch up', async () => {
    const running = await loadServiceSecretBox({ dataAccess, kms });
    const sealedBefore = running.seal(secret, aad);

    assert.deepEqual(await rotateServiceKey({ dataAccess, kms }), {
      version: 2,
      kmsKeyVersion: 'local/cryptoKeyVersions/1',
    });
    const restarted = await loadServiceSecretBox({ dataAccess, kms });
    assert.equal(restarted.currentVersion, 2);
    assert.deepEqual(await restarted.open(sealedBefore, aad), secret);
    const sealedAfter = restarted.seal(secret, aad);
    assert.match(sealedAfter, /^v1\.s2\./);
    await assert.rejects(restarted.open(sealedAfter, `${aad}x`), { message: 'sealed value cannot be opened' });

    const rows = await storedRows(dataAccess);
    assert.deepEqual(
      rows.map((row) => [row.version, row.retiredAt !== null]),
      [
        [1, true],
        [2, false],
      ],
    );
    assert.notDeepEqual(rows[0]?.wrapped, rows[1]?.wrapped);

    // A replica still on v1 opens what a restarted one sealed, and seals with v2 from then on.
    assert.equal(running.currentVersion, 1);
    assert.deepEqual(await running.open(sealedAfter, aad), secret);
    assert.equal(running.currentVersion, 2);
    assert.match(running.seal(secret, aad), /^v1\.s2\./);
    // A value naming a version that does not exist opens nowhere.
    await assert.rejects(running.open(sealedAfter.replace('.s2.', '.s9.'), aad), {
      message: 'sealed value cannot be opened',
    });

    assert.equal((await rotateServiceKey({ dataAccess, kms })).version, 3);
  });

  it('keeps an enrolled TOTP authenticator working across a service key rotation', async () => {
    const clock = manualClock(Date.parse('2026-03-01T09:00:00Z'));
    const settings = readIdentitySettings({}, 'test', { mailOutboxDir: join(dir, 'outbox') });
    const userId = randomUUID();
    const sessionId = randomUUID();
    await dataAccess.unsafeUnscoped(async (tx) => {
      await tx.insert(users).values({ id: userId, displayName: 'Test', email: `${userId}@example.ch` });
      await tx.insert(sessions).values({
        id: sessionId,
        userId,
        tokenHash: randomBytes(32),
        authenticatedWith: 'PASSWORD',
        createdAt: new Date(clock.now()),
        lastSeenAt: new Date(clock.now()),
        expiresAt: new Date(clock.now() + 3_600_000),
      });
    });
    const mfa = (secretBox: ServiceSecretBox) =>
      audited(
        mfaResolvers({
          dataAccess,
          settings,
          clock,
          secretBox,
          throttle: createThrottle(dataAccess, clock),
          mailer: { send: async () => undefined },
        }).Mutation,
        { dataAccess, clock },
      );
    const context = {
      forwarded: {
        ...anonymousContext({ requestId: 'r', clientIp: '192.0.2.1', userAgent: null }),
        actor: { kind: 'user', userId, sessionId },
      },
      session: { set: () => undefined, clear: () => undefined },
    } as unknown as IdentityContext;

    const before = mfa(await loadServiceSecretBox({ dataAccess, kms, clock }));
    const { secret: base32 } = await before.beginTotpEnrolment(undefined, undefined, context);
    const [pending] = await dataAccess.unsafeUnscoped((tx) => tx.select().from(users).where(eq(users.id, userId)));
    // The pending secret is sealed under the service key, never stored as the base32 shown.
    assert.match(pending?.totpPendingSealed ?? '', /^v1\.s1\./);
    assert.ok(!(pending?.totpPendingSealed ?? '').includes(base32));
    const totpSecret = await loadServiceSecretBox({ dataAccess, kms }).then((box) =>
      box.open(pending?.totpPendingSealed ?? '', `identity.users.totp_pending:${userId}`),
    );
    const code = () => totpCode(totpSecret, currentStep(clock));
    assert.equal(await before.confirmTotpEnrolment(undefined, { code: code() }, context), true);

    await rotateServiceKey({ dataAccess, kms, clock });
    const after = mfa(await loadServiceSecretBox({ dataAccess, kms, clock }));
    clock.advance(30_000);
    assert.equal(await after.verifyTotp(undefined, { code: code() }, context), true);
  });

  it('re-wraps every version under a new KMS version, and everything still opens', async () => {
    const first = await loadServiceSecretBox({ dataAccess, kms });
    const sealedV1 = first.seal(secret, aad);
    await rotateServiceKey({ dataAccess, kms });
    const sealedV2 = (await loadServiceSecretBox({ dataAccess, kms })).seal(secret, aad);
    const before = await storedRows(dataAccess);

    const primary = await addLocalKmsVersion(keyFile);
    const rotatedKms = await openLocalKms({ environment: 'test', keyFile });
    assert.deepEqual(await rewrapServiceKeys({ dataAccess, kms: rotatedKms }), {
      rewrapped: 2,
      unchanged: 0,
      kmsKeyVersion: primary,
    });
    const rows = await storedRows(dataAccess);
    assert.ok(rows.every((row) => row.kmsKeyVersion === primary));
    assert.ok(rows.every((row, index) => !row.wrapped.equals(before[index]?.wrapped ?? Buffer.alloc(0))));
    assert.deepEqual(await rewrapServiceKeys({ dataAccess, kms: rotatedKms }), {
      rewrapped: 0,
      unchanged: 2,
      kmsKeyVersion: primary,
    });

    // With the old KMS version gone, the service still starts and opens both versions' values.
    await destroyLocalKmsVersion(keyFile, 1);
    const afterDestroy = await loadServiceSecretBox({
      dataAccess,
      kms: await openLocalKms({ environment: 'test', keyFile }),
    });
    assert.equal(afterDestroy.currentVersion, 2);
    assert.deepEqual(await afterDestroy.open(sealedV1, aad), secret);
    assert.deepEqual(await afterDestroy.open(sealedV2, aad), secret);
  });

  it('refuses to start when a stored key does not unwrap', async () => {
    await loadServiceSecretBox({ dataAccess, kms });
    const otherKms = await openLocalKms({ environment: 'test', keyFile: join(dir, `${randomUUID()}.json`) });
    await assert.rejects(loadServiceSecretBox({ dataAccess, kms: otherKms }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'ServiceKeyError');
      assert.equal(error.message, 'service key v1 cannot be unwrapped');
      return true;
    });
  });
});
