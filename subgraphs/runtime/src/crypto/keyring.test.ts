import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { manualClock } from '../clock.ts';
import type { DataAccess } from '../db/data-access.ts';
import { openMigratedTestDatabase } from '../db/testing.ts';
import { createFieldCipher } from './field-cipher.ts';
import { createGcpKms } from './gcp-kms.ts';
import { createKeyring, dataKeysMigrationSql, dataKeysTable, DataKey, KeyringError, wrapAad } from './keyring.ts';
import { KmsError, KmsIntegrityError } from './kms.ts';
import type { KeyManagementService, KeyWrapper } from './kms.ts';
import {
  addLocalWorkspaceKeyVersion,
  destroyLocalKmsVersion,
  localWorkspaceKeyFile,
  openLocalKms,
} from './local-kms.ts';
import { Secret } from './secret.ts';
import { startLoopbackKms } from './testing/loopback-kms-server.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const service = 'cryptotest';
const migrations = new URL('./testdata/migrations/', import.meta.url);
const table = dataKeysTable(service);

/** Counts the KMS calls and keeps a copy of every key it was asked to wrap, to look for leaks. */
function recording(inner: KeyManagementService) {
  const calls = { encrypt: 0, decrypt: 0 };
  const wrappedKeys: Buffer[] = [];
  const counted = (wrapper: KeyWrapper): KeyWrapper => ({
    keyName: wrapper.keyName,
    encrypt: (plaintext, aad) => {
      calls.encrypt++;
      wrappedKeys.push(Buffer.from(plaintext));
      return wrapper.encrypt(plaintext, aad);
    },
    decrypt: (ciphertext, aad) => {
      calls.decrypt++;
      return wrapper.decrypt(ciphertext, aad);
    },
  });
  const kms: KeyManagementService = {
    provider: inner.provider,
    ...counted(inner),
    workspaceKey: (tenantId) => counted(inner.workspaceKey(tenantId)),
    destroyWorkspaceKey: (tenantId) => inner.destroyWorkspaceKey(tenantId),
    close: () => inner.close(),
  };
  return { kms, calls, wrappedKeys };
}

const rowsOf = (dataAccess: DataAccess, tenantId: string) =>
  dataAccess.inTenant(tenantId, (tx) =>
    tx.select().from(table).where(eq(table.tenantId, tenantId)).orderBy(table.purpose, table.version),
  );

describe('keyring', () => {
  let dataAccess: DataAccess;
  let close: () => Promise<void>;
  let masterKey: Secret;
  let localKms: KeyManagementService;

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, service, migrations));
    masterKey = new Secret(randomBytes(32));
    localKms = await openLocalKms({ environment: 'test', masterKey });
  });
  after(async () => {
    await close();
  });

  it('ships the migration its helper generates', async () => {
    assert.equal(await readFile(new URL('0001_data_keys.sql', migrations), 'utf8'), dataKeysMigrationSql(service));
  });

  it('creates version 1 on first use and stores it only wrapped', async () => {
    const tenant = randomUUID();
    const { kms, calls, wrappedKeys } = recording(localKms);
    const keyring = createKeyring({ kms, dataAccess, schema: service });
    const key = await keyring.currentKey(tenant);
    assert.deepEqual(key.toJSON(), { tenantId: tenant, purpose: 'field', version: 1 });
    assert.deepEqual(calls, { encrypt: 1, decrypt: 0 });
    assert.equal(await keyring.currentKey(tenant), key);
    assert.deepEqual(calls, { encrypt: 1, decrypt: 0 });

    const [row, ...others] = await rowsOf(dataAccess, tenant);
    assert.ok(row);
    assert.equal(others.length, 0);
    // Wrapped under the workspace's own KMS key, not the shared one.
    assert.equal(row.kmsKeyVersion, `local/workspaces/${tenant}/cryptoKeyVersions/1`);
    assert.equal(row.retiredAt, null);
    const dek = wrappedKeys[0];
    assert.ok(dek && dek.length === 32);
    assert.equal(row.wrapped.indexOf(dek), -1);
    assert.equal(
      (await localKms.workspaceKey(tenant).decrypt(row.wrapped, wrapAad(tenant, 'field', 1))).toString('hex'),
      dek.toString('hex'),
    );
    await assert.rejects(localKms.decrypt(row.wrapped, wrapAad(tenant, 'field', 1)), KmsError);
  });

  it("cannot unwrap one workspace's wrapped key as another's", async () => {
    const [tenantA, tenantB] = [randomUUID(), randomUUID()];
    const keyring = createKeyring({ kms: localKms, dataAccess, schema: service });
    await keyring.currentKey(tenantA);
    // B has a KMS key of its own too (from its index key), which must not open A's wrap either.
    await keyring.currentKey(tenantB, 'index');
    const [rowA] = await rowsOf(dataAccess, tenantA);
    assert.ok(rowA);
    // Row-level security: B's scope does not even see A's row.
    assert.deepEqual(
      await dataAccess.inTenant(tenantB, (tx) => tx.select().from(table).where(eq(table.tenantId, tenantA))),
      [],
    );
    const keyA = localKms.workspaceKey(tenantA);
    const keyB = localKms.workspaceKey(tenantB);
    await assert.rejects(keyB.decrypt(rowA.wrapped, wrapAad(tenantA, 'field', 1)), KmsError);
    await assert.rejects(keyB.decrypt(rowA.wrapped, wrapAad(tenantB, 'field', 1)), KmsError);
    await assert.rejects(keyA.decrypt(rowA.wrapped, wrapAad(tenantB, 'field', 1)), KmsError);
    await assert.rejects(keyA.decrypt(rowA.wrapped, wrapAad(tenantA, 'index', 1)), KmsError);
    await assert.rejects(keyA.decrypt(rowA.wrapped, wrapAad(tenantA, 'field', 2)), KmsError);

    // A's wrapped key planted in B's table row is refused when B's key is needed.
    await dataAccess.inTenant(tenantB, (tx) =>
      tx.insert(table).values({ ...rowA, tenantId: tenantB, createdAt: new Date(), retiredAt: null }),
    );
    const fresh = createKeyring({ kms: localKms, dataAccess, schema: service });
    await assert.rejects(fresh.currentKey(tenantB), KeyringError);
    await assert.rejects(fresh.keyForVersion(tenantB, 1), KeyringError);
  });

  it('keeps unwrapped keys for the TTL only', async () => {
    const tenant = randomUUID();
    await createKeyring({ kms: localKms, dataAccess, schema: service }).currentKey(tenant);
    const clock = manualClock(1_000_000);
    const { kms, calls } = recording(localKms);
    const keyring = createKeyring({ kms, dataAccess, schema: service, clock, cacheTtlMs: 60_000 });

    await keyring.currentKey(tenant);
    await keyring.keyForVersion(tenant, 1);
    assert.equal(calls.decrypt, 1);
    clock.advance(59_999);
    await keyring.currentKey(tenant);
    await keyring.keyForVersion(tenant, 1);
    assert.equal(calls.decrypt, 1);
    clock.advance(1);
    await keyring.keyForVersion(tenant, 1);
    assert.equal(calls.decrypt, 2);
    // The current-version pointer expired too; it is looked up again, the key just unwrapped reused.
    await keyring.currentKey(tenant);
    assert.equal(calls.decrypt, 2);
    clock.advance(60_000);
    await keyring.currentKey(tenant);
    assert.equal(calls.decrypt, 3);
    keyring.clearCache();
    await keyring.currentKey(tenant);
    assert.equal(calls.decrypt, 4);
  });

  it('rotates: the new version becomes current, older ones stay readable', async () => {
    const tenant = randomUUID();
    const keyring = createKeyring({ kms: localKms, dataAccess, schema: service });
    const fields = createFieldCipher(keyring);
    const ref = { tenantId: tenant, table: 'contacts', column: 'iban', rowId: 'c1' };
    const before = await fields.encryptField(ref, 'CH9300762011623852957');
    assert.match(before, /^v1\.1\./);

    const rotated = await keyring.rotate(tenant);
    assert.equal(rotated.version, 2);
    assert.equal((await keyring.currentKey(tenant)).version, 2);
    const after = await fields.encryptField(ref, 'CH9300762011623852957');
    assert.match(after, /^v1\.2\./);

    const fresh = createFieldCipher(createKeyring({ kms: localKms, dataAccess, schema: service }));
    assert.equal(await fresh.decryptField(ref, before), 'CH9300762011623852957');
    assert.equal(await fresh.decryptField(ref, after), 'CH9300762011623852957');
    const rows = await rowsOf(dataAccess, tenant);
    assert.deepEqual(
      rows.map((row) => [row.version, row.retiredAt === null]),
      [
        [1, false],
        [2, true],
      ],
    );
  });

  it('keeps a separate key per purpose, each usable for its purpose only', async () => {
    const tenant = randomUUID();
    const { kms, wrappedKeys } = recording(localKms);
    const keyring = createKeyring({ kms, dataAccess, schema: service });
    const field = await keyring.currentKey(tenant, 'field');
    const index = await keyring.currentKey(tenant, 'index');
    assert.equal(wrappedKeys.length, 2);
    assert.notEqual(wrappedKeys[0]?.toString('hex'), wrappedKeys[1]?.toString('hex'));
    const ref = { tenantId: tenant, table: 'contacts', column: 'iban', rowId: 'c1' };
    assert.throws(() => index.sealField(ref, Buffer.from('x')), KeyringError);
    assert.throws(() => field.mac(Buffer.from('x')), KeyringError);
    assert.throws(() => field.sealField({ ...ref, tenantId: randomUUID() }, Buffer.from('x')), KeyringError);
    assert.deepEqual(
      (await rowsOf(dataAccess, tenant)).map((row) => row.purpose),
      ['field', 'index'],
    );
  });

  it('creates one key when many ask at once, in one process or two', async () => {
    const tenant = randomUUID();
    const { kms, calls } = recording(localKms);
    const keyring = createKeyring({ kms, dataAccess, schema: service });
    const keys = await Promise.all(Array.from({ length: 5 }, () => keyring.currentKey(tenant)));
    assert.equal(calls.encrypt, 1);
    assert.ok(keys.every((key) => key === keys[0]));

    const other = randomUUID();
    const [replicaA, replicaB] = [
      createKeyring({ kms: localKms, dataAccess, schema: service }),
      createKeyring({ kms: localKms, dataAccess, schema: service }),
    ];
    await Promise.all([replicaA.currentKey(other), replicaB.currentKey(other)]);
    assert.equal((await rowsOf(dataAccess, other)).length, 1);
    const ref = { tenantId: other, table: 'contacts', column: 'iban', rowId: 'r' };
    const sealed = await createFieldCipher(replicaA).encryptField(ref, 'x');
    assert.equal(await createFieldCipher(replicaB).decryptField(ref, sealed), 'x');
  });

  it("re-wraps every key under its workspace key's primary after that key's rotation", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'numezis-rewrap-'));
    try {
      const keyFile = join(dir, 'kms.json');
      const tenants = [randomUUID(), randomUUID()];
      const before = createKeyring({
        kms: await openLocalKms({ environment: 'test', keyFile }),
        dataAccess,
        schema: service,
      });
      const sealed = new Map<string, string>();
      for (const tenantId of tenants) {
        await before.currentKey(tenantId, 'index');
        await before.currentKey(tenantId);
        await before.rotate(tenantId);
        const ref = { tenantId, table: 'employees', column: 'ahv', rowId: 'e1' };
        sealed.set(tenantId, await createFieldCipher(before).encryptField(ref, `secret of ${tenantId}`));
      }

      const primaries = new Map<string, string>();
      for (const tenantId of tenants) primaries.set(tenantId, await addLocalWorkspaceKeyVersion(keyFile, tenantId));
      const keyring = createKeyring({
        kms: await openLocalKms({ environment: 'test', keyFile }),
        dataAccess,
        schema: service,
      });
      assert.deepEqual(await keyring.rewrapAll(tenants), { rewrapped: 6, unchanged: 0, kmsKeyVersion: undefined });
      for (const tenantId of tenants) {
        const primary = primaries.get(tenantId);
        assert.ok((await rowsOf(dataAccess, tenantId)).every((row) => row.kmsKeyVersion === primary));
      }
      assert.deepEqual(await keyring.rewrapAll(tenants), { rewrapped: 0, unchanged: 6, kmsKeyVersion: undefined });
      const [first] = tenants;
      assert.ok(first !== undefined);
      assert.deepEqual(await keyring.rewrapTenant(first), {
        rewrapped: 0,
        unchanged: 3,
        kmsKeyVersion: primaries.get(first),
      });

      // With the old version of each workspace key gone, everything still opens.
      for (const tenantId of tenants) await destroyLocalKmsVersion(localWorkspaceKeyFile(keyFile, tenantId), 1);
      const fields = createFieldCipher(
        createKeyring({ kms: await openLocalKms({ environment: 'test', keyFile }), dataAccess, schema: service }),
      );
      for (const tenantId of tenants) {
        const ref = { tenantId, table: 'employees', column: 'ahv', rowId: 'e1' };
        assert.equal(await fields.decryptField(ref, sealed.get(tenantId) ?? ''), `secret of ${tenantId}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('crypto-shreds with the KMS key: wrapped keys copied before (a backup) never unwrap again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'numezis-shred-'));
    try {
      const keyFile = join(dir, 'kms.json');
      const kms = await openLocalKms({ environment: 'test', keyFile });
      const [doomed, kept] = [randomUUID(), randomUUID()];
      const keyring = createKeyring({ kms, dataAccess, schema: service });
      for (const tenantId of [doomed, kept]) await keyring.currentKey(tenantId);
      const backup = await rowsOf(dataAccess, doomed);
      assert.equal(backup.length, 1);

      assert.deepEqual(await keyring.shred(doomed), { destroyed: 1 });
      // The rows as a backup from before holds them, with the KMS that made them: nothing opens.
      for (const row of backup) {
        await assert.rejects(
          kms.workspaceKey(doomed).decrypt(row.wrapped, wrapAad(doomed, row.purpose, row.version)),
          KmsError,
        );
      }
      // Nor can the workspace key be made again, by this process or another.
      await assert.rejects(kms.workspaceKey(doomed).encrypt(Buffer.alloc(32), Buffer.from('x')), KmsError);
      const other = await openLocalKms({ environment: 'test', keyFile });
      await assert.rejects(other.workspaceKey(doomed).encrypt(Buffer.alloc(32), Buffer.from('x')), KmsError);
      // A second shred (another service of the same workspace) finds its KMS key gone and is fine.
      assert.deepEqual(await keyring.shred(doomed), { destroyed: 0 });

      const fresh = createKeyring({ kms: other, dataAccess, schema: service });
      assert.equal((await fresh.currentKey(kept)).version, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never shows key material in keys, the keyring or its errors', async () => {
    const tenant = randomUUID();
    const { kms, wrappedKeys } = recording(localKms);
    const keyring = createKeyring({ kms, dataAccess, schema: service });
    const field = await keyring.currentKey(tenant);
    const index = await keyring.currentKey(tenant, 'index');
    const missing = await keyring.keyForVersion(tenant, 9).catch((error: unknown) => error);
    const crossed = await createKeyring({ kms: localKms, dataAccess, schema: service })
      .keyForVersion(randomUUID(), 1)
      .catch((error: unknown) => error);
    const printed = [
      JSON.stringify(field),
      JSON.stringify({ field, index }),
      String(field),
      index.toString(),
      inspect(field, { showHidden: true, depth: 10 }),
      inspect(index, { showHidden: true, depth: 10 }),
      inspect(keyring, { showHidden: true, depth: 10 }),
      JSON.stringify(keyring),
      inspect(missing, { depth: 10 }),
      inspect(crossed, { depth: 10 }),
      Object.keys(field).join(','),
    ].join('\n');
    assert.equal(wrappedKeys.length, 2);
    for (const key of wrappedKeys) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        assert.ok(!printed.includes(key.toString(encoding)), encoding);
      }
    }
    assert.equal(JSON.stringify(field), JSON.stringify({ tenantId: tenant, purpose: 'field', version: 1 }));
    assert.ok(field instanceof DataKey);
  });

  describe('on Cloud KMS', () => {
    it('stores nothing when the KMS answers fail the integrity checks', async () => {
      const server = await startLoopbackKms();
      const kms = createGcpKms({
        keyName: server.keyName,
        residency: 'strict-ch',
        endpoint: { host: server.host, port: server.port },
      });
      try {
        const keyring = createKeyring({ kms, dataAccess, schema: service });
        const tenant = randomUUID();
        for (const fault of ['unverifiedPlaintext', 'wrongCiphertextChecksum', 'corruptRequest'] as const) {
          server.inject(fault);
          await assert.rejects(keyring.currentKey(tenant), KmsIntegrityError);
          await assert.rejects(keyring.rotate(tenant), KmsIntegrityError);
          server.clearFaults();
        }
        assert.deepEqual(await rowsOf(dataAccess, tenant), []);

        const key = await keyring.currentKey(tenant);
        const [row] = await rowsOf(dataAccess, tenant);
        // The workspace's own CryptoKey, made in the configured key's ring on first use.
        const workspaceKeyName = server.keyName.replace(/[^/]+$/, `workspace-${tenant}`);
        assert.ok(server.keyNames().includes(workspaceKeyName));
        assert.equal(row?.kmsKeyVersion, `${workspaceKeyName}/cryptoKeyVersions/1`);
        server.inject('wrongPlaintextChecksum');
        const fresh = createKeyring({ kms, dataAccess, schema: service });
        await assert.rejects(fresh.keyForVersion(tenant, key.version), (error: unknown) => {
          assert.ok(error instanceof KeyringError);
          assert.ok(error.cause instanceof KmsIntegrityError);
          return true;
        });
        server.clearFaults();

        // Crypto-shredding schedules every version of the workspace's CryptoKey for destruction:
        // its wrapped keys, wherever copies of them are, no longer unwrap.
        assert.deepEqual(await keyring.shred(tenant), { destroyed: 1 });
        assert.ok(row !== undefined);
        await assert.rejects(
          kms.workspaceKey(tenant).decrypt(row.wrapped, wrapAad(tenant, 'field', 1)),
          /not enabled|DESTROY_SCHEDULED/,
        );
        assert.deepEqual(await keyring.shred(tenant), { destroyed: 0 });
        // A workspace that never had a key: nothing to destroy, no error.
        assert.deepEqual(await keyring.shred(randomUUID()), { destroyed: 0 });
      } finally {
        await kms.close();
        await server.stop();
      }
    });
  });
});
