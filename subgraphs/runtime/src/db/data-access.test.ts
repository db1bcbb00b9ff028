import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { PortfolioAccess } from '../context/access-mode.ts';
import { rolePermissions } from '../policy/roles.ts';
import { createDataAccess } from './data-access.ts';
import type { DataAccess } from './data-access.ts';
import { openServiceDatabase } from './database.ts';
import type { ServiceDatabase } from './database.ts';
import { loadMigrations } from './migrate.ts';
import { serviceDatabaseNames } from './roles.ts';
import { createTestDatabases } from './testing.ts';
import type { TestDatabases } from './testing.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const service = 'dbtest';
const names = serviceDatabaseNames(service);
const firm = '00000000-0000-4000-8000-0000000000f1';
const clientA = '11111111-1111-4111-8111-111111111111';
const clientB = '22222222-2222-4222-8222-222222222222';
const unlinked = '33333333-3333-4333-8333-333333333333';

/** Both drivers answer `execute` with `{ rows }`; the generic database type does not say so. */
const rows = async (result: Promise<unknown>) => ((await result) as { rows: Record<string, unknown>[] }).rows;

/** Drizzle wraps driver errors; the SQLSTATE is on the cause. */
const sqlState = (code: string) => (error: unknown) => (error as { cause?: { code?: string } }).cause?.code === code;

const notesTable = `
  CREATE TABLE dbtest.notes (tenant_id uuid NOT NULL, body text NOT NULL);
  ALTER TABLE dbtest.notes ENABLE ROW LEVEL SECURITY;
  ALTER TABLE dbtest.notes FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON dbtest.notes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
  GRANT SELECT, INSERT, UPDATE, DELETE ON dbtest.notes TO numezis_dbtest_app;`;

const portfolio = (clients: PortfolioAccess['clients']): PortfolioAccess => ({
  kind: 'portfolio',
  firmTenantId: firm,
  clients,
});

describe('portfolio data access', () => {
  let databases: TestDatabases;
  let database: ServiceDatabase;
  let access: DataAccess;

  before(async () => {
    databases = await createTestDatabases(process.env, [service]);
    database = await openServiceDatabase(databases.settingsFor(service), names);
    const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(dir, '0001_notes.sql'), notesTable);
    await database.migrate(await loadMigrations(pathToFileURL(`${dir}/`)));
    access = createDataAccess(database.db);
    for (const [tenant, body] of [
      [clientA, 'a1'],
      [clientA, 'a2'],
      [clientB, 'b1'],
      [unlinked, 'c1'],
      [firm, 'f1'],
    ] as const) {
      await access.inTenant(tenant, (tx) => tx.execute(sql`insert into dbtest.notes values (${tenant}, ${body})`));
    }
  });
  after(async () => {
    await database.close();
    await databases.dispose();
  });

  const viewer = (tenantId: string) => ({ tenantId, role: 'VIEWER' as const, permissions: rolePermissions.VIEWER });

  it("reads each client's rows in its own pass only, never another workspace's", async () => {
    const seen = await access.inPortfolio(
      portfolio([viewer(clientA), viewer(clientB)]),
      'accounting.read',
      (tx, client) =>
        rows(tx.execute(sql`select tenant_id, body from dbtest.notes order by body`)).then((found) => ({
          client: client.tenantId,
          found,
        })),
    );
    assert.deepEqual(seen, [
      {
        client: clientA,
        found: [
          { tenant_id: clientA, body: 'a1' },
          { tenant_id: clientA, body: 'a2' },
        ],
      },
      { client: clientB, found: [{ tenant_id: clientB, body: 'b1' }] },
    ]);
  });

  it('refuses every write inside a pass, and leaves nothing behind', async () => {
    const attempts = [
      sql`insert into dbtest.notes values (${clientA}, 'forged')`,
      sql`update dbtest.notes set body = 'changed'`,
      sql`delete from dbtest.notes`,
    ];
    for (const statement of attempts) {
      await assert.rejects(
        access.inPortfolio(portfolio([viewer(clientA)]), 'accounting.read', (tx) => tx.execute(statement)),
        sqlState('25006'),
      );
    }
    // Nor can the pass switch itself back to read-write: the scope is set before `work` runs.
    await assert.rejects(
      access.inPortfolio(portfolio([viewer(clientA)]), 'accounting.read', (tx) =>
        tx.execute(sql`set transaction read write`),
      ),
      sqlState('25001'),
    );
    const bodies = await rows(access.inTenant(clientA, (tx) => tx.execute(sql`select body from dbtest.notes`)));
    assert.deepEqual(bodies.map((row) => row.body).sort(), ['a1', 'a2']);
    // Read-only belongs to the pass's transaction, not to the pooled connection it ran on.
    await access.inTenant(clientA, async (tx) => {
      await tx.execute(sql`insert into dbtest.notes values (${clientA}, 'a3')`);
      await tx.execute(sql`delete from dbtest.notes where body = 'a3'`);
    });
  });

  it('skips a client whose link lacks the permission, and those outside `only`', async () => {
    const noBooks = { tenantId: clientB, role: 'VIEWER' as const, permissions: ['workspace.read' as const] };
    const visited: string[] = [];
    await access.inPortfolio(portfolio([viewer(clientA), noBooks]), 'accounting.read', async (_tx, client) => {
      visited.push(client.tenantId);
    });
    assert.deepEqual(visited, [clientA]);

    visited.length = 0;
    await access.inPortfolio(
      portfolio([viewer(clientA), viewer(clientB)]),
      'accounting.read',
      async (_tx, client) => {
        visited.push(client.tenantId);
      },
      { only: new Set([clientB, unlinked]) },
    );
    assert.deepEqual(visited, [clientB]);
  });

  it('runs nothing for an empty portfolio, and nothing for a forged tenant id', async () => {
    assert.deepEqual(await access.inPortfolio(portfolio([]), 'accounting.read', async () => 1), []);
    await assert.rejects(
      access.inPortfolio(portfolio([viewer('not-a-uuid')]), 'accounting.read', async () => 1),
      /UUID/,
    );
  });
});
