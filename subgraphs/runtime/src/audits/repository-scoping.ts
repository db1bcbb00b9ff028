import type pg from 'pg';
import { serviceDatabaseNames } from '../db/roles.ts';
import type { ServiceDatabaseNames } from '../db/roles.ts';
import { pgSession } from '../db/sql-session.ts';
import type { SqlSession } from '../db/sql-session.ts';

/**
 * Audits the database catalog for the promises that keep each tenant's rows out of another
 * tenant's reach, whatever the application code does: row-level security on every table of tenant
 * data, scoped by the settings the data access path sets; an application role that owns nothing
 * and cannot bypass row-level security, directly or through another role; no SECURITY DEFINER
 * function or owner-rights view the application role can use to step around the policies; and no
 * unique key across tenants that would let one tenant probe for another's values.
 *
 * Read-only: it runs catalog queries and nothing else, so it may run against any database.
 */
export interface Violation {
  readonly service: string;
  /** The catalog object at fault, e.g. `identity.invitations` or `role numezis_audit_app`. */
  readonly object: string;
  /** A stable id of the rule, for filtering and for the `[rule]` suffix in reports. */
  readonly rule: string;
  readonly message: string;
}

export const rules = {
  rlsEnabled: 'rls-enabled',
  rlsForced: 'rls-forced',
  rlsPolicyCoverage: 'rls-policy-coverage',
  rlsPolicyScoped: 'rls-policy-scoped',
  appRoleAttributes: 'app-role-attributes',
  appRoleOwnsNothing: 'app-role-owns-nothing',
  appRoleMembership: 'app-role-membership',
  securityDefinerExecutable: 'security-definer-executable',
  viewSecurityInvoker: 'view-security-invoker',
  materializedView: 'materialized-view',
  tenantScopedUnique: 'tenant-scoped-unique',
} as const;

/**
 * Tables of tenant data without a `tenant_id` column: the tenant is the row itself. Tables of a
 * person (users, sessions, passkeys, ...) have no tenant column on purpose and are not listed.
 */
const tenantRootTables: readonly string[] = ['identity.tenants'];

/** What a policy must read for its rows to depend on the caller's scope (see data-access.ts). */
const scopeSettingMarker = "current_setting('app.";

const coveredCommands = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export function auditRepositoryScoping(client: pg.ClientBase, services: readonly string[]): Promise<Violation[]> {
  return auditRepositoryScopingSession(pgSession(client), services);
}

/** The same audit over any SQL session (embedded PGlite in tests without a PostgreSQL server). */
export async function auditRepositoryScopingSession(
  session: SqlSession,
  services: readonly string[],
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const service of services) {
    const names = serviceDatabaseNames(service);
    const report = (object: string, rule: string, message: string) =>
      violations.push({ service, object, rule, message });
    await auditRowLevelSecurity(session, names, report);
    await auditAppRole(session, names, report);
    await auditOwnerRightsObjects(session, names, report);
    await auditUniqueKeys(session, names, report);
  }
  return violations;
}

type Report = (object: string, rule: string, message: string) => void;

const listed = (items: readonly string[]) => items.join(', ');

async function auditRowLevelSecurity(session: SqlSession, names: ServiceDatabaseNames, report: Report) {
  const tables = await session.query<{ name: string; enabled: boolean; forced: boolean }>(
    `SELECT n.nspname || '.' || c.relname AS name,
            c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        AND (EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
             OR n.nspname || '.' || c.relname = ANY ($2::text[]))
      ORDER BY c.relname`,
    [names.schema, tenantRootTables],
  );
  // `applies` is whether the policy binds the application role (PUBLIC, the role itself, or a role it
  // is a member of); a policy for some other role does nothing for the requests we serve.
  const policies = await session.query<{
    table: string;
    policy: string;
    cmd: string;
    permissive: boolean;
    applies: boolean;
    qual: string | null;
    withCheck: string | null;
  }>(
    `SELECT p.schemaname || '.' || p.tablename AS table, p.policyname AS policy, p.cmd,
            p.permissive = 'PERMISSIVE' AS permissive, p.qual, p.with_check AS "withCheck",
            EXISTS (SELECT 1 FROM unnest(p.roles) AS r(name)
                     WHERE r.name = 'public'
                        OR COALESCE(pg_has_role(to_regrole($2), to_regrole(r.name::text), 'MEMBER'), false))
              AS applies
       FROM pg_policies p
      WHERE p.schemaname = $1
      ORDER BY p.tablename, p.policyname`,
    [names.schema, names.appRole],
  );

  for (const table of tables) {
    if (!table.enabled) {
      report(
        table.name,
        rules.rlsEnabled,
        `row-level security is not enabled on this table of tenant data: every row is visible to ${names.appRole} ` +
          `(ALTER TABLE ${table.name} ENABLE ROW LEVEL SECURITY)`,
      );
    }
    if (!table.forced) {
      report(
        table.name,
        rules.rlsForced,
        `row-level security is not forced: the table owner ${names.ownerRole} and anything running with its rights ` +
          `bypass the policies (ALTER TABLE ${table.name} FORCE ROW LEVEL SECURITY)`,
      );
    }
    const granting = policies.filter((policy) => policy.table === table.name && policy.permissive && policy.applies);
    const covered = new Set(granting.flatMap((policy) => (policy.cmd === 'ALL' ? coveredCommands : [policy.cmd])));
    const missing = coveredCommands.filter((command) => !covered.has(command));
    if (missing.length > 0) {
      report(
        table.name,
        rules.rlsPolicyCoverage,
        `no permissive row-level security policy for ${listed(missing)} applies to ${names.appRole} ` +
          `(want one policy FOR ALL, or one for each of ${listed(coveredCommands)})`,
      );
    }
  }

  for (const policy of policies) {
    const clauses = [
      ['USING', policy.qual],
      ['WITH CHECK', policy.withCheck],
    ] as const;
    const present = clauses.filter(([, expression]) => expression !== null);
    const unscoped = present.filter(([, expression]) => !expression?.includes(scopeSettingMarker));
    if (present.length > 0 && unscoped.length === 0) continue;
    const problem =
      present.length === 0
        ? 'has neither USING nor WITH CHECK, so it does not read'
        : `${unscoped.map(([clause, expression]) => `${clause} (${expression ?? ''})`).join(' and ')} ` +
          `${unscoped.length > 1 ? 'do' : 'does'} not read`;
    report(
      `${policy.table} policy ${policy.policy}`,
      rules.rlsPolicyScoped,
      `${problem} ${scopeSettingMarker}...'): the rows it admits do not depend on the tenant, user or token ` +
        `the data access path sets`,
    );
  }
}

async function auditAppRole(session: SqlSession, names: ServiceDatabaseNames, report: Report) {
  const role = `role ${names.appRole}`;
  const [attributes] = await session.query<{ superuser: boolean; bypassrls: boolean }>(
    `SELECT rolsuper AS superuser, rolbypassrls AS bypassrls FROM pg_roles WHERE rolname = $1`,
    [names.appRole],
  );
  if (attributes === undefined) {
    report(role, rules.appRoleAttributes, `the application role does not exist (run the bootstrap statements)`);
    return;
  }
  if (attributes.superuser) {
    report(role, rules.appRoleAttributes, `the application role is a superuser: it bypasses row-level security`);
  }
  if (attributes.bypassrls) {
    report(role, rules.appRoleAttributes, `the application role has BYPASSRLS: it ignores every policy`);
  }

  // Ownership of any kind lets the role change what it owns (a table owner may disable its policies).
  // Row types of relations and automatic array types are listed with the object they belong to.
  const owned = await session.query<{ kind: string; name: string }>(
    `WITH app AS (SELECT oid FROM pg_roles WHERE rolname = $1),
          nsp AS (SELECT oid, nspname FROM pg_namespace)
     SELECT 'database' AS kind, quote_ident(d.datname) AS name
       FROM pg_database d, app WHERE d.datdba = app.oid
     UNION ALL
     SELECT 'schema', quote_ident(n.nspname)
       FROM pg_namespace n, app WHERE n.nspowner = app.oid
     UNION ALL
     SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                           WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                           WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'relation' END,
            format('%I.%I', nsp.nspname, c.relname)
       FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace, app
      WHERE c.relowner = app.oid AND c.relkind NOT IN ('i', 'I', 't')
     UNION ALL
     SELECT 'function', format('%I.%I(%s)', nsp.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
       FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace, app
      WHERE p.proowner = app.oid
     UNION ALL
     SELECT 'type', format('%I.%I', nsp.nspname, t.typname)
       FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace, app
      WHERE t.typowner = app.oid AND t.typrelid = 0
        AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
     ORDER BY 1, 2`,
    [names.appRole],
  );
  for (const object of owned) {
    report(
      `${object.kind} ${object.name}`,
      rules.appRoleOwnsNothing,
      `owned by the application role ${names.appRole}, which must own nothing (objects belong to ${names.ownerRole})`,
    );
  }

  const memberships = await session.query<{ name: string; superuser: boolean; bypassrls: boolean }>(
    `WITH RECURSIVE granted (roleid) AS (
       SELECT m.roleid FROM pg_auth_members m WHERE m.member = to_regrole($1)
       UNION
       SELECT m.roleid FROM pg_auth_members m JOIN granted g ON m.member = g.roleid
     )
     SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls
       FROM granted g JOIN pg_roles r ON r.oid = g.roleid
      ORDER BY r.rolname`,
    [names.appRole],
  );
  for (const membership of memberships) {
    const why = [
      membership.name === names.ownerRole ? `the owner role of schema ${names.schema}` : undefined,
      membership.superuser ? 'a superuser' : undefined,
      membership.bypassrls ? 'a role with BYPASSRLS' : undefined,
    ].filter((reason) => reason !== undefined);
    if (why.length > 0) {
      report(
        role,
        rules.appRoleMembership,
        `the application role is a member of ${membership.name} (${why.join(', ')}): ` +
          `it can take on that role's rights and step around row-level security`,
      );
    }
  }
}

async function auditOwnerRightsObjects(session: SqlSession, names: ServiceDatabaseNames, report: Report) {
  const definers = await session.query<{ name: string; owner: string }>(
    `SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
            pg_get_userbyid(p.proowner) AS owner
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.prosecdef
        AND COALESCE(has_function_privilege(to_regrole($2), p.oid, 'EXECUTE'), false)
      ORDER BY 1`,
    [names.schema, names.appRole],
  );
  for (const definer of definers) {
    report(
      `function ${definer.name}`,
      rules.securityDefinerExecutable,
      `SECURITY DEFINER function executable by ${names.appRole}: it runs with the rights of ${definer.owner}, ` +
        `outside the caller's row-level security (REVOKE EXECUTE ... FROM PUBLIC, ${names.appRole})`,
    );
  }

  const views = await session.query<{ name: string; kind: string; invoker: boolean; owner: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
            COALESCE((SELECT o.option_value::boolean FROM pg_options_to_table(c.reloptions) o
                       WHERE o.option_name = 'security_invoker'), false) AS invoker
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
        AND COALESCE(has_any_column_privilege(to_regrole($2), c.oid, 'SELECT'), false)
      ORDER BY 1`,
    [names.schema, names.appRole],
  );
  for (const view of views) {
    if (view.kind === 'm') {
      report(
        `materialized view ${view.name}`,
        rules.materializedView,
        `selectable by ${names.appRole}: its rows were computed with the rights of ${view.owner} and ` +
          `row-level security does not apply to a materialized view`,
      );
    } else if (!view.invoker) {
      report(
        `view ${view.name}`,
        rules.viewSecurityInvoker,
        `selectable by ${names.appRole} without security_invoker=true: it reads its tables with the rights of ` +
          `${view.owner}, not the caller's row-level security (ALTER VIEW ${view.name} SET (security_invoker = true))`,
      );
    }
  }
}

async function auditUniqueKeys(session: SqlSession, names: ServiceDatabaseNames, report: Report) {
  // Only key columns count: INCLUDE columns do not take part in uniqueness.
  const uniques = await session.query<{ table: string; index: string; constraint: string | null; keys: string[] }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS table, i.relname AS index, con.conname AS constraint,
            ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
                    FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS keys
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class i ON i.oid = x.indexrelid
       LEFT JOIN pg_constraint con
              ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u')
      WHERE n.nspname = $1 AND x.indisunique
        AND EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
      ORDER BY 1, 2`,
    [names.schema],
  );
  for (const unique of uniques) {
    if (unique.keys.includes('tenant_id')) continue;
    // A primary key (or unique) on `id` alone is allowed: ids are server-generated UUIDs, so a
    // collision tells a caller nothing about another tenant.
    if (unique.keys.length === 1 && unique.keys[0] === 'id') continue;
    const what = unique.constraint === null ? `unique index ${unique.index}` : `unique constraint ${unique.constraint}`;
    report(
      `${unique.table} ${what}`,
      rules.tenantScopedUnique,
      `unique on (${unique.keys.join(', ')}) across all tenants: a duplicate-key error tells one tenant that ` +
        `another holds the value; include tenant_id in the key`,
    );
  }
}
