import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DataAccess } from '../db/data-access.ts';
import { openMigratedTestDatabase } from '../db/testing.ts';
import { DecryptionError, decodeSealedField, encodeSealedField, GCM_IV_BYTES, GCM_TAG_BYTES } from './aes-gcm.ts';
import type { FieldRef } from './aes-gcm.ts';
import { createFieldCipher, normaliseIban } from './field-cipher.ts';
import type { FieldCipher } from './field-cipher.ts';
import { createKeyring, KeyringError } from './keyring.ts';
import type { KeyManagementService } from './kms.ts';
import { KmsError } from './kms.ts';
import { openLocalKms } from './local-kms.ts';
import { Secret } from './secret.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const service = 'cryptotest';
const migrations = new URL('./testdata/migrations/', import.meta.url);

describe('field encryption', () => {
  let dataAccess: DataAccess;
  let close: () => Promise<void>;
  let kms: KeyManagementService;
  let fields: FieldCipher;
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const ref: FieldRef = { tenantId: tenantA, table: 'contacts', column: 'iban', rowId: randomUUID() };
  const iban = 'CH9300762011623852957';

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, service, migrations));
    kms = await openLocalKms({ environment: 'test', masterKey: new Secret(randomBytes(32)) });
    fields = createFieldCipher(createKeyring({ kms, dataAccess, schema: service }));
  });
  after(async () => {
    await close();
  });

  it('round-trips text, including empty and non-ASCII values, never as plaintext', async () => {
    for (const value of [iban, '', 'Zürichstrasse 1, 8001 Zürich', '756.9217.0769.85', '🙂'.repeat(100)]) {
      const sealed = await fields.encryptField(ref, value);
      assert.match(sealed, /^v1\.1\.[A-Za-z0-9_-]+$/);
      if (value !== '') assert.ok(!sealed.includes(value));
      assert.equal(await fields.decryptField(ref, sealed), value);
    }
    assert.notEqual(await fields.encryptField(ref, iban), await fields.encryptField(ref, iban));
  });

  it('fails when the value is moved to another row, column, table or workspace', async () => {
    const sealed = await fields.encryptField(ref, iban);
    await fields.encryptField({ ...ref, tenantId: tenantB }, 'B has a key too');
    for (const elsewhere of [
      { ...ref, rowId: randomUUID() },
      { ...ref, column: 'name' },
      { ...ref, table: 'employees' },
      { ...ref, tenantId: tenantB },
      { ...ref, tenantId: randomUUID() },
    ]) {
      await assert.rejects(fields.decryptField(elsewhere, sealed), DecryptionError, JSON.stringify(elsewhere));
    }
  });

  it('fails when any byte of the IV, the ciphertext or the tag is flipped', async () => {
    const sealed = decodeSealedField(await fields.encryptField(ref, iban));
    const body = Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]);
    assert.equal(body.length, GCM_IV_BYTES + iban.length + GCM_TAG_BYTES);
    for (let index = 0; index < body.length; index++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Buffer.from(body);
        tampered[index] = (tampered[index] ?? 0) ^ mask;
        const text = encodeSealedField({
          dekVersion: sealed.dekVersion,
          iv: tampered.subarray(0, GCM_IV_BYTES),
          ciphertext: tampered.subarray(GCM_IV_BYTES, tampered.length - GCM_TAG_BYTES),
          tag: tampered.subarray(tampered.length - GCM_TAG_BYTES),
        });
        await assert.rejects(fields.decryptField(ref, text), DecryptionError, `byte ${index} ^ ${mask}`);
      }
    }
  });

  it('fails on a truncated tag, a stretched value and a key version the workspace never had', async () => {
    const text = await fields.encryptField(ref, iban);
    const sealed = decodeSealedField(text);
    const body = Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]);
    for (const cut of [1, 4, 8]) {
      await assert.rejects(
        fields.decryptField(ref, `v1.1.${body.subarray(0, body.length - cut).toString('base64url')}`),
        DecryptionError,
      );
    }
    await assert.rejects(
      fields.decryptField(ref, `v1.1.${Buffer.concat([body, Buffer.alloc(1)]).toString('base64url')}`),
      DecryptionError,
    );
    await assert.rejects(fields.decryptField(ref, text.replace(/^v1\.1\./, 'v1.7.')), DecryptionError);
    await assert.rejects(fields.decryptField(ref, 'not a sealed value'), DecryptionError);
  });

  it('refuses malformed places before touching any key', async () => {
    for (const bad of [
      { ...ref, tenantId: 'not-a-uuid' },
      { ...ref, table: 'Contacts; drop table' },
      { ...ref, column: '' },
      { ...ref, rowId: '' },
    ]) {
      await assert.rejects(fields.encryptField(bad, iban), RangeError);
    }
  });

  it('reports KMS trouble as such, not as a bad value', async () => {
    const broken: KeyManagementService = {
      ...kms,
      workspaceKey: (tenantId) => ({
        ...kms.workspaceKey(tenantId),
        decrypt: () => Promise.reject(new KmsError('KMS unavailable')),
      }),
    };
    const sealed = await fields.encryptField(ref, iban);
    const cipher = createFieldCipher(createKeyring({ kms: broken, dataAccess, schema: service }));
    await assert.rejects(cipher.decryptField(ref, sealed), KeyringError);
  });

  describe('blind index', () => {
    const index = { tenantId: tenantA, table: 'contacts', column: 'iban' };

    it('is deterministic per workspace and column, and keyed', async () => {
      const first = await fields.blindIndex(index, normaliseIban('CH93 0076 2011 6238 5295 7'));
      assert.equal(first, await fields.blindIndex(index, iban));
      assert.match(first, /^v1\.1\.[A-Za-z0-9_-]{43}$/);
      assert.ok(!first.includes(iban));
      assert.notEqual(first, await fields.blindIndex(index, 'CH9300762011623852958'));
      assert.notEqual(first, await fields.blindIndex({ ...index, tenantId: tenantB }, iban));
      assert.notEqual(first, await fields.blindIndex({ ...index, table: 'employees' }, iban));

      // Another KMS master key means other workspace keys, so other indexes: nothing is a bare hash.
      const elsewhere = createFieldCipher(
        createKeyring({
          kms: await openLocalKms({ environment: 'test', masterKey: new Secret(randomBytes(32)) }),
          dataAccess,
          schema: service,
        }),
      );
      assert.notEqual(first, await elsewhere.blindIndex({ ...index, tenantId: randomUUID() }, iban));
    });
  });
});
