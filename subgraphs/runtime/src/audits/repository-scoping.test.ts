import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openServiceDatabase } from '../db/database.ts';
import type { DatabaseSettings } from '../db/database.ts';
import { loadMigrations } from '../db/migrate.ts';
import type { Migration } from '../db/migrate.ts';
import { serviceDatabaseNames } from '../db/roles.ts';
import { pgliteSession, pgSession } from '../db/sql-session.ts';
import type { SqlSession } from '../db/sql-session.ts';
import { createTestDatabases } from '../db/testing.ts';
import type { TestDatabases } from '../db/testing.ts';
import { subgraphNames } from '../stack/launch.ts';
import { auditRepositoryScopingSession, rules } from './repository-scoping.ts';
import type { Violation } from './repository-scoping.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise. Roles are global to a
// PostgreSQL server, so the planted violations live in a service of their own, with a name unique
// to this run, whose roles are dropped at the end.
const adminUrl = process.env.DATABASE_URL;
const plant = `auditplant_${randomBytes(3).toString('hex')}`;
const plantNames = serviceDatabaseNames(plant);
const s = plantNames.schema;

const scoped = `tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid`;
const isolate = (table: string) => `
  ALTER TABLE ${s}.${table} ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${s}.${table} FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON ${s}.${table} USING (${scoped}) WITH CHECK (${scoped});`;

/** Each planted object breaks one rule, and only that one; the rest are near misses the audit must accept. */
const plantedSql = `
  CREATE TABLE ${s}.clean (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, code text NOT NULL, UNIQUE (tenant_id, code));
  ${isolate('clean')}
  GRANT SELECT, INSERT ON ${s}.clean TO ${plantNames.appRole};

  CREATE TABLE ${s}.no_rls (tenant_id uuid NOT NULL, body text);
  ALTER TABLE ${s}.no_rls FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON ${s}.no_rls USING (${scoped}) WITH CHECK (${scoped});

  CREATE TABLE ${s}.not_forced (tenant_id uuid NOT NULL, body text);
  ALTER TABLE ${s}.not_forced ENABLE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON ${s}.not_forced USING (${scoped}) WITH CHECK (${scoped});

  CREATE TABLE ${s}.unscoped (tenant_id uuid NOT NULL, body text);
  ALTER TABLE ${s}.unscoped ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${s}.unscoped FORCE ROW LEVEL SECURITY;
  CREATE POLICY open_to_all ON ${s}.unscoped USING (true) WITH CHECK (true);

  CREATE TABLE ${s}.select_only (tenant_id uuid NOT NULL, body text);
  ALTER TABLE ${s}.select_only ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${s}.select_only FORCE ROW LEVEL SECURITY;
  CREATE POLICY read_own ON ${s}.select_only FOR SELECT USING (${scoped});

  CREATE TABLE ${s}.per_command (tenant_id uuid NOT NULL, body text);
  ALTER TABLE ${s}.per_command ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${s}.per_command FORCE ROW LEVEL SECURITY;
  CREATE POLICY read_own ON ${s}.per_command FOR SELECT USING (${scoped});
  CREATE POLICY add_own ON ${s}.per_command FOR INSERT WITH CHECK (${scoped});
  CREATE POLICY change_own ON ${s}.per_command FOR UPDATE USING (${scoped}) WITH CHECK (${scoped});
  CREATE POLICY remove_own ON ${s}.per_command FOR DELETE USING (${scoped});

  CREATE TABLE ${s}.global_unique (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, code text NOT NULL UNIQUE);
  CREATE UNIQUE INDEX global_unique_lower_code ON ${s}.global_unique (lower(code));
  CREATE UNIQUE INDEX global_unique_tenant_code ON ${s}.global_unique (tenant_id, lower(code)) INCLUDE (id);
  ${isolate('global_unique')}

  -- A person's table: no tenant column, so neither row-level security nor tenant-scoped keys apply.
  CREATE TABLE ${s}.people (id uuid PRIMARY KEY, email text UNIQUE);
  GRANT SELECT ON ${s}.people TO ${plantNames.appRole};

  CREATE FUNCTION ${s}.count_everything() RETURNS bigint LANGUAGE sql SECURITY DEFINER
    AS 'SELECT count(*) FROM ${s}.clean';
  CREATE FUNCTION ${s}.maintenance() RETURNS bigint LANGUAGE sql SECURITY DEFINER
    AS 'SELECT count(*) FROM ${s}.clean';
  REVOKE EXECUTE ON FUNCTION ${s}.maintenance() FROM PUBLIC;
  CREATE FUNCTION ${s}.as_caller() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM ${s}.clean';

  CREATE VIEW ${s}.clean_codes AS SELECT tenant_id, code FROM ${s}.clean;
  GRANT SELECT ON ${s}.clean_codes TO ${plantNames.appRole};
  CREATE VIEW ${s}.clean_codes_as_caller WITH (security_invoker = on) AS SELECT tenant_id, code FROM ${s}.clean;
  GRANT SELECT ON ${s}.clean_codes_as_caller TO ${plantNames.appRole};
  CREATE VIEW ${s}.clean_codes_for_owner AS SELECT tenant_id, code FROM ${s}.clean;
`;

const migration = (sql: string): Migration => ({
  version: 1,
  name: 'plants',
  sql,
  checksum: createHash('sha256').update(sql).digest('hex'),
});

const found = (violations: readonly Violation[]) => violations.map((v) => `${v.object} [${v.rule}]`).sort();
const messageOf = (violations: readonly Violation[], object: string, rule: string) =>
  violations.find((v) => v.object === object && v.rule === rule)?.message ?? '(not reported)';

describe('repository scoping audit', () => {
  let databases: TestDatabases;

  before(async () => {
    databases = await createTestDatabases(process.env, [...subgraphNames, plant]);
  });
  after(async () => {
    await databases?.dispose();
    if (databases?.kind === 'postgres' && adminUrl !== undefined) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP ROLE IF EXISTS ${plantNames.appRole}, ${plantNames.ownerRole}`);
      } finally {
        await client.end();
      }
    }
  });

  async function migrate(service: string, migrations: readonly Migration[]) {
    const database = await openServiceDatabase(databases.settingsFor(service), serviceDatabaseNames(service));
    try {
      await database.migrate(migrations);
    } finally {
      await database.close();
    }
  }

  /**
   * A superuser session on the service's database. The audit needs one: every role's objects and
   * memberships, and the role changes planted below. With PGlite each service has its own database.
   */
  async function asSuperuser<T>(service: string, work: (session: SqlSession) => Promise<T>): Promise<T> {
    const settings: DatabaseSettings = databases.settingsFor(service);
    if (settings.kind === 'pglite') {
      const db = await PGlite.create({ dataDir: settings.dataDir });
      try {
        return await work(pgliteSession(db));
      } finally {
        await db.close();
      }
    }
    assert.ok(adminUrl !== undefined);
    const url = new URL(adminUrl);
    url.pathname = new URL(settings.appUrl).pathname;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(pgSession(client));
    } finally {
      await client.end();
    }
  }

  it('finds nothing to report in the services’ own migrations', async () => {
    const violations: Violation[] = [];
    for (const service of subgraphNames) {
      await migrate(service, await loadMigrations(new URL(`../../../${service}/migrations/`, import.meta.url)));
      violations.push(...(await asSuperuser(service, (session) => auditRepositoryScopingSession(session, [service]))));
    }
    assert.deepEqual(
      violations.map((v) => `${v.service}: ${v.object}: ${v.message} [${v.rule}]`),
      [],
    );
  });

  it('reports each planted schema violation by name, and nothing else', async () => {
    await migrate(plant, [migration(plantedSql)]);
    const violations = await asSuperuser(plant, (session) => auditRepositoryScopingSession(session, [plant]));
    assert.ok(violations.every((v) => v.service === plant));
    assert.deepEqual(
      found(violations),
      [
        `${s}.global_unique unique constraint global_unique_code_key [${rules.tenantScopedUnique}]`,
        `${s}.global_unique unique index global_unique_lower_code [${rules.tenantScopedUnique}]`,
        `${s}.no_rls [${rules.rlsEnabled}]`,
        `${s}.not_forced [${rules.rlsForced}]`,
        `${s}.select_only [${rules.rlsPolicyCoverage}]`,
        `${s}.unscoped policy open_to_all [${rules.rlsPolicyScoped}]`,
        `function ${s}.count_everything() [${rules.securityDefinerExecutable}]`,
        `view ${s}.clean_codes [${rules.viewSecurityInvoker}]`,
      ].sort(),
    );
    const message = (object: string, rule: string) => messageOf(violations, object, rule);
    assert.match(message(`${s}.no_rls`, rules.rlsEnabled), /row-level security is not enabled/);
    assert.match(message(`${s}.not_forced`, rules.rlsForced), /not forced.*table owner/);
    assert.match(message(`${s}.select_only`, rules.rlsPolicyCoverage), /for INSERT, UPDATE, DELETE applies/);
    assert.match(
      message(`${s}.unscoped policy open_to_all`, rules.rlsPolicyScoped),
      /^USING \(true\) and WITH CHECK \(true\) do not read current_setting\('app\./,
    );
    assert.match(
      message(`function ${s}.count_everything()`, rules.securityDefinerExecutable),
      new RegExp(`SECURITY DEFINER function executable by ${plantNames.appRole}.*rights of ${plantNames.ownerRole}`),
    );
    assert.match(message(`view ${s}.clean_codes`, rules.viewSecurityInvoker), /without security_invoker=true/);
    assert.match(
      message(`${s}.global_unique unique constraint global_unique_code_key`, rules.tenantScopedUnique),
      /unique on \(code\) across all tenants/,
    );
    assert.match(
      message(`${s}.global_unique unique index global_unique_lower_code`, rules.tenantScopedUnique),
      /unique on \(lower\(code\)\) across all tenants/,
    );
  });

  it('reports an application role that bypasses row-level security, joins the owner or owns objects', async () => {
    const app = plantNames.appRole;
    const violations = await asSuperuser(plant, async (session) => {
      try {
        await session.exec(`ALTER ROLE ${app} BYPASSRLS`);
        await session.exec(`GRANT ${plantNames.ownerRole} TO ${app}`);
        await session.exec(`ALTER TABLE ${s}.people OWNER TO ${app}`);
        return await auditRepositoryScopingSession(session, [plant]);
      } finally {
        // Role attributes and memberships outlive the database: put them back whatever happened.
        await session.exec(`ALTER ROLE ${app} NOBYPASSRLS`);
        await session.exec(`REVOKE ${plantNames.ownerRole} FROM ${app}`);
        await session.exec(`ALTER TABLE ${s}.people OWNER TO ${plantNames.ownerRole}`);
      }
    });
    const reported = found(violations);
    for (const expected of [
      `role ${app} [${rules.appRoleAttributes}]`,
      `role ${app} [${rules.appRoleMembership}]`,
      `table ${s}.people [${rules.appRoleOwnsNothing}]`,
    ]) {
      assert.ok(reported.includes(expected), `${expected} missing from:\n${reported.join('\n')}`);
    }
    assert.match(messageOf(violations, `role ${app}`, rules.appRoleAttributes), /has BYPASSRLS/);
    assert.match(
      messageOf(violations, `role ${app}`, rules.appRoleMembership),
      new RegExp(`member of ${plantNames.ownerRole} \\(the owner role of schema ${s}\\)`),
    );
    assert.match(
      messageOf(violations, `table ${s}.people`, rules.appRoleOwnsNothing),
      /owned by the application role.*must own nothing/,
    );

    const restored = await asSuperuser(plant, (session) => auditRepositoryScopingSession(session, [plant]));
    assert.deepEqual(
      found(restored).filter((entry) => entry.startsWith('role ') || entry.includes(rules.appRoleOwnsNothing)),
      [],
    );
  });
});
