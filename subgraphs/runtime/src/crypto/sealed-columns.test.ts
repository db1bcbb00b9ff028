import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { pgSchema, text, uuid } from 'drizzle-orm/pg-core';
import { systemAccess } from '../context/access-mode.ts';
import type { DataAccess } from '../db/data-access.ts';
import { openMigratedTestDatabase } from '../db/testing.ts';
import { DecryptionError } from './aes-gcm.ts';
import { createFieldCipher } from './field-cipher.ts';
import type { FieldCipher } from './field-cipher.ts';
import { createKeyring, keyMaintenanceAccess, KeyringError, WorkspaceShreddedError } from './keyring.ts';
import type { Keyring } from './keyring.ts';
import type { KeyManagementService } from './kms.ts';
import { openLocalKms } from './local-kms.ts';
import { reencryptWorkspace, sealedColumns } from './sealed-columns.ts';
import { Secret } from './secret.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const service = 'cryptotest';
const migrations = new URL('./testdata/migrations/', import.meta.url);
const notes = pgSchema(service).table('notes', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  title: text('title').notNull(),
  body: text('body'),
  phone: text('phone'),
});
const notesSealed = sealedColumns(notes, ['body', 'phone']);

describe('sealed columns', () => {
  let dataAccess: DataAccess;
  let close: () => Promise<void>;
  let kms: KeyManagementService;
  // Each "process" has its own keyring and cache over the same database and KMS.
  const process = () => {
    const keyring = createKeyring({ kms, dataAccess, schema: service });
    return { keyring, fields: createFieldCipher(keyring) };
  };

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(globalThis.process.env, service, migrations));
    kms = await openLocalKms({ environment: 'test', masterKey: new Secret(randomBytes(32)) });
  });
  after(() => close());

  const insert = async (fields: FieldCipher, tenantId: string, body: string | null, phone: string | null) => {
    const id = randomUUID();
    const values = await notesSealed.seal(fields, tenantId, id, { title: 'note', body, phone });
    await dataAccess.inTenant(tenantId, (tx) => tx.insert(notes).values({ ...values, tenantId, id }));
    return id;
  };
  const stored = (tenantId: string) =>
    dataAccess.inTenant(tenantId, (tx) =>
      tx.select().from(notes).where(eq(notes.tenantId, tenantId)).orderBy(notes.id),
    );
  const versionsOf = async (tenantId: string) =>
    (await stored(tenantId))
      .flatMap((row) => [row.body, row.phone])
      .filter((v) => v !== null)
      .map((v) => v.split('.')[1]);

  it('stores only sealed values and opens them for the same workspace, row and column only', async () => {
    const { fields } = process();
    const tenant = randomUUID();
    const first = await insert(fields, tenant, 'Kanariengasse 7', '+41 44 000 00 00');
    const second = await insert(fields, tenant, 'Other', null);
    const rows = await stored(tenant);
    const row = rows.find((candidate) => candidate.id === first);
    assert.ok(row !== undefined);
    assert.match(row.body ?? '', /^v1\.1\.[A-Za-z0-9_-]+$/);
    assert.doesNotMatch(JSON.stringify(rows), /Kanariengasse|44 000/);
    assert.deepEqual(
      (await notesSealed.openAll(fields, tenant, rows))
        .map(({ id, body, phone }) => ({ id, body, phone }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: first, body: 'Kanariengasse 7', phone: '+41 44 000 00 00' },
        { id: second, body: 'Other', phone: null },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    // Moved to another row, another column, or another workspace, the value does not open.
    await assert.rejects(notesSealed.open(fields, tenant, { ...row, id: second }), DecryptionError);
    await assert.rejects(notesSealed.open(fields, tenant, { ...row, phone: row.body }), DecryptionError);
    const other = randomUUID();
    await insert(fields, other, 'theirs', null);
    await assert.rejects(notesSealed.open(fields, other, row), DecryptionError);
  });

  it('re-encrypts a workspace after rotation in batches, resumably, with old and new readable meanwhile', async () => {
    const writer = process();
    const tenant = randomUUID();
    const bystander = randomUUID();
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(await insert(writer.fields, tenant, `body ${n}`, `phone ${n}`));
    await insert(writer.fields, bystander, 'untouched', null);
    assert.deepEqual(new Set(await versionsOf(tenant)), new Set(['1']));

    const operator = process();
    await operator.keyring.rotate(tenant);
    // One batch, then the command "crashes".
    const batch = await notesSealed.reencryptBatch({ ...operator, dataAccess, tenantId: tenant, batchSize: 2 });
    assert.equal(batch.rows, 2);
    const midway = await versionsOf(tenant);
    assert.deepEqual([midway.filter((v) => v === '2').length, midway.filter((v) => v === '1').length], [4, 6]);
    // Meanwhile both versions read, in any process.
    const reader = process();
    assert.deepEqual(
      (await notesSealed.openAll(reader.fields, tenant, await stored(tenant))).map((row) => row.body).sort(),
      ['body 0', 'body 1', 'body 2', 'body 3', 'body 4'],
    );

    // A rerun after the crash finishes the job; another rerun finds nothing left to do.
    const rerun = process();
    const batches: number[] = [];
    const done = await reencryptWorkspace({
      ...rerun,
      dataAccess,
      tenantId: tenant,
      batchSize: 2,
      tables: [notesSealed],
      onBatch: (_, rows) => batches.push(rows),
    });
    assert.equal(done.rows, 3);
    assert.deepEqual(new Set(await versionsOf(tenant)), new Set(['2']));
    assert.equal(
      (await reencryptWorkspace({ ...rerun, dataAccess, tenantId: tenant, batchSize: 2, tables: [notesSealed] })).rows,
      0,
    );
    assert.deepEqual(
      (await notesSealed.openAll(reader.fields, tenant, await stored(tenant))).map((row) => row.phone).sort(),
      ['phone 0', 'phone 1', 'phone 2', 'phone 3', 'phone 4'],
    );
    // Version 1 stays: append-only records sealed under it must stay readable.
    assert.equal((await operator.keyring.keyForVersion(tenant, 1)).version, 1);
    assert.deepEqual(await versionsOf(bystander), ['1']);
  });

  it('never overwrites a row edited while it was being re-encrypted', async () => {
    const { keyring, fields } = process();
    const tenant = randomUUID();
    const id = await insert(fields, tenant, 'before', null);
    await keyring.rotate(tenant);
    // An edit lands between the batch's read and its write: simulated by a keyring whose key
    // lookups make the edit first.
    let edited = false;
    const racing: Keyring = {
      ...keyring,
      keyForVersion: async (...args) => {
        if (!edited) {
          edited = true;
          const values = await notesSealed.seal(fields, tenant, id, { body: 'edited' });
          await dataAccess.inTenant(tenant, (tx) => tx.update(notes).set(values).where(eq(notes.id, id)));
        }
        return keyring.keyForVersion(...args);
      },
    };
    const batch = await notesSealed.reencryptBatch({
      keyring: racing,
      fields: createFieldCipher(racing),
      dataAccess,
      tenantId: tenant,
      batchSize: 10,
    });
    assert.equal(batch.rows, 0);
    const [row] = await stored(tenant);
    assert.ok(row !== undefined);
    assert.equal((await notesSealed.open(fields, tenant, row)).body, 'edited');
  });

  it('lists workspaces with keys only under the key-maintenance system access', async () => {
    const { keyring, fields } = process();
    const tenant = randomUUID();
    await insert(fields, tenant, 'x', null);
    assert.ok((await keyring.listTenants(keyMaintenanceAccess())).includes(tenant));
    await assert.rejects(keyring.listTenants(systemAccess('identity.purge-expired')), KeyringError);
    // Another system job sees no key rows at all.
    const seen = await dataAccess.unsafeAsSystem(systemAccess('identity.purge-expired'), (tx) =>
      tx.select().from(notes),
    );
    assert.deepEqual(seen, []);
  });

  it('crypto-shreds one workspace: its values never open again, nothing new is sealed, others are unaffected', async () => {
    const { keyring, fields } = process();
    const tenant = randomUUID();
    const other = randomUUID();
    await insert(fields, tenant, 'doomed', null);
    await keyring.rotate(tenant);
    await insert(fields, tenant, 'doomed too', null);
    await insert(fields, other, 'kept', null);

    // Both field key versions go (the placeholder that stops a new index key being made is not counted).
    assert.deepEqual(await keyring.shred(tenant), { destroyed: 2 });
    for (const row of await stored(tenant)) {
      await assert.rejects(notesSealed.open(process().fields, tenant, row), DecryptionError);
      await assert.rejects(notesSealed.open(fields, tenant, row), DecryptionError);
    }
    await assert.rejects(insert(fields, tenant, 'new', null), WorkspaceShreddedError);
    await assert.rejects(keyring.rotate(tenant), WorkspaceShreddedError);
    const [kept] = await stored(other);
    assert.ok(kept !== undefined);
    assert.equal((await notesSealed.open(process().fields, other, kept)).body, 'kept');

    // A workspace that never had keys here is shredded for good too.
    const empty = randomUUID();
    assert.deepEqual(await keyring.shred(empty), { destroyed: 0 });
    await assert.rejects(insert(process().fields, empty, 'new', null), WorkspaceShreddedError);
  });
});
