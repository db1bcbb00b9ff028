import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createDataAccess } from './data-access.ts';
import { openServiceDatabase } from './database.ts';
import type { ServiceDatabase } from './database.ts';
import { loadMigrations } from './migrate.ts';
import type { Migration } from './migrate.ts';
import { serviceDatabaseNames } from './roles.ts';
import { createTestDatabases } from './testing.ts';
import type { TestDatabases } from './testing.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const service = 'dbtest';
const names = serviceDatabaseNames(service);
const tenantA = '11111111-1111-4111-8111-111111111111';
const tenantB = '22222222-2222-4222-8222-222222222222';

/** Both drivers answer `execute` with `{ rows }`; the generic database type does not say so. */
const rows = async (result: Promise<unknown>) => ((await result) as { rows: Record<string, unknown>[] }).rows;

/** Drizzle wraps driver errors; the SQLSTATE is on the cause. */
const sqlState = (code: string) => (error: unknown) => (error as { cause?: { code?: string } }).cause?.code === code;

async function migrationsFrom(files: Record<string, string>): Promise<Migration[]> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return loadMigrations(pathToFileURL(`${dir}/`));
}

const notesTable = `
  CREATE TABLE dbtest.notes (tenant_id uuid NOT NULL, body text NOT NULL);
  ALTER TABLE dbtest.notes ENABLE ROW LEVEL SECURITY;
  ALTER TABLE dbtest.notes FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON dbtest.notes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
  GRANT SELECT, INSERT ON dbtest.notes TO numezis_dbtest_app;`;

describe('service database', () => {
  let databases: TestDatabases;
  let database: ServiceDatabase;

  before(async () => {
    databases = await createTestDatabases(process.env, [service]);
    database = await openServiceDatabase(databases.settingsFor(service), names);
  });
  after(async () => {
    await database.close();
    await databases.dispose();
  });

  it('applies each migration once, even when replicas migrate at the same time', async () => {
    const migrations = await migrationsFrom({ '0001_notes.sql': notesTable });
    const others = await Promise.all([1, 2].map(() => openSecondConnection()));
    const reports = await Promise.all([database, ...others].map((db) => db.migrate(migrations)));
    await Promise.all(others.map((db) => db.close()));
    assert.deepEqual(reports.map((report) => report.applied).flat(), [1]);
    assert.deepEqual((await database.migrate(migrations)).applied, []);
  });

  it('refuses to start when an applied migration was edited', async () => {
    const edited = await migrationsFrom({ '0001_notes.sql': `${notesTable}\n-- edited` });
    await assert.rejects(database.migrate(edited), /was changed after it was applied/);
  });

  it('leaves nothing half-done when a migration fails', async () => {
    const migrations = await migrationsFrom({
      '0001_notes.sql': notesTable,
      '0002_broken.sql': 'CREATE TABLE dbtest.half (id int); SELECT no_such_function();',
    });
    await assert.rejects(database.migrate(migrations));
    const [table] = await rows(database.db.execute(sql`select to_regclass('dbtest.half') as half`));
    assert.equal(table?.half, null);
  });

  it('serves as an application role that owns nothing and cannot create tables', async () => {
    const who = await rows(
      database.db.execute(
        sql`select current_user as role, (select rolsuper or rolbypassrls from pg_roles where rolname = current_user) as privileged`,
      ),
    );
    assert.deepEqual(who, [{ role: names.appRole, privileged: false }]);
    await assert.rejects(database.db.execute(sql`create table dbtest.intruder (id int)`), sqlState('42501'));
  });

  it('keeps each tenant to its own rows and fails closed without a tenant', async () => {
    const access = createDataAccess(database.db);
    await access.inTenant(tenantA, (tx) => tx.execute(sql`insert into dbtest.notes values (${tenantA}, 'a')`));
    await access.inTenant(tenantB, (tx) => tx.execute(sql`insert into dbtest.notes values (${tenantB}, 'b')`));
    const seenBy = async (tenant: string) =>
      rows(access.inTenant(tenant, (tx) => tx.execute(sql`select body from dbtest.notes`)));
    assert.deepEqual(await seenBy(tenantA), [{ body: 'a' }]);
    assert.deepEqual(await seenBy(tenantB), [{ body: 'b' }]);
    assert.deepEqual(await rows(database.db.execute(sql`select body from dbtest.notes`)), []);
    await assert.rejects(
      access.inTenant(tenantA, (tx) => tx.execute(sql`insert into dbtest.notes values (${tenantB}, 'forged')`)),
      sqlState('42501'),
    );
    await assert.rejects(
      access.inTenant('not-a-uuid', async () => undefined),
      /UUID/,
    );
  });

  it('never carries a tenant over to the next request on the same connection', async () => {
    const settings = databases.settingsFor(service);
    // PGlite is one connection already: reuse it rather than open its folder twice.
    const single =
      settings.kind === 'postgres' ? await openServiceDatabase({ ...settings, poolMax: 1 }, names) : database;
    try {
      const access = single === database ? createDataAccess(database.db) : createDataAccess(single.db);
      const backend = async (tenant: string) =>
        access.inTenant(tenant, async (tx) => ({
          pid: (await rows(tx.execute(sql`select pg_backend_pid() as pid`)))[0],
          rows: await rows(tx.execute(sql`select body from dbtest.notes`)),
        }));
      const first = await backend(tenantA);
      const second = await backend(tenantB);
      assert.deepEqual(first.pid, second.pid);
      assert.deepEqual(second.rows, [{ body: 'b' }]);
      assert.deepEqual(await rows(single.db.execute(sql`select body from dbtest.notes`)), []);
    } finally {
      if (single !== database) await single.close();
    }
  });

  it('never returns a row of another tenant to many interleaved requests on a small pool', async () => {
    const settings = databases.settingsFor(service);
    // PGlite is one connection already: reuse it rather than open its folder twice.
    const small =
      settings.kind === 'postgres' ? await openServiceDatabase({ ...settings, poolMax: 2 }, names) : database;
    const access = createDataAccess(small === database ? database.db : small.db);
    const tenants = Array.from({ length: 5 }, () => randomUUID());
    try {
      for (const tenant of tenants) {
        await access.inTenant(tenant, (tx) => tx.execute(sql`insert into dbtest.notes values (${tenant}, ${tenant})`));
      }
      const requests = Array.from(
        { length: 200 },
        (_, index) => tenants[randomInt(tenants.length)] ?? tenants[index % 5] ?? '',
      );
      const answers = await Promise.all(
        requests.map((tenant) =>
          access.inTenant(tenant, async (tx) => {
            // A round trip inside the transaction, so requests really interleave on the pooled connections.
            await tx.execute(sql`select 1`);
            return { tenant, rows: await rows(tx.execute(sql`select tenant_id, body from dbtest.notes`)) };
          }),
        ),
      );
      for (const { tenant, rows: seen } of answers) {
        assert.deepEqual(seen, [{ tenant_id: tenant, body: tenant }]);
      }
    } finally {
      if (small !== database) await small.close();
    }
  });

  // PGlite is one in-process connection: a second "replica" is the same database object.
  async function openSecondConnection(): Promise<ServiceDatabase> {
    const settings = databases.settingsFor(service);
    if (settings.kind === 'pglite') return { ...database, close: async () => undefined };
    return openServiceDatabase(settings, names);
  }
});
