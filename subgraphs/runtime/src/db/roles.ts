/**
 * Naming and bootstrap of each service's PostgreSQL objects. A service owns one schema, named after
 * it, owned by its owner role (migrations only). Its application role owns nothing, cannot bypass
 * row-level security and gets only the grants its migrations give it.
 */
export interface ServiceDatabaseNames {
  readonly schema: string;
  readonly ownerRole: string;
  readonly appRole: string;
  /**
   * The role a service's deleting job takes on (`SET LOCAL ROLE`) for what the application role may
   * never do itself, such as removing expired audit events; triggers check for it by name.
   */
  readonly purgeRole: string;
}

const servicePattern = /^[a-z][a-z0-9_]{0,30}$/;

export function serviceDatabaseNames(service: string): ServiceDatabaseNames {
  if (!servicePattern.test(service)) throw new Error(`invalid service name "${service}"`);
  return {
    schema: service,
    ownerRole: `numezis_${service}_owner`,
    appRole: `numezis_${service}_app`,
    purgeRole: `numezis_${service}_purge`,
  };
}

/**
 * Statements a superuser runs once per database before the service's first start: the embedded
 * PGlite default runs them itself, tests run them against a fresh database, and production runs
 * them from infrastructure code. Idempotent, and safe when several replicas race.
 * `login` gives both roles LOGIN (for servers where the service connects as them directly).
 */
export function bootstrapStatements(names: ServiceDatabaseNames, options: { login: boolean }): string[] {
  const login = options.login ? 'LOGIN' : 'NOLOGIN';
  const createRole = (role: string, attributes: string) =>
    `DO $$ BEGIN CREATE ROLE ${role} ${attributes}; ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`;
  return [
    createRole(names.ownerRole, `${login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`),
    createRole(names.appRole, `${login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`),
    createRole(names.purgeRole, 'NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'),
    `DO $$ BEGIN GRANT ${names.purgeRole} TO ${names.appRole}; ` +
      `EXCEPTION WHEN unique_violation OR duplicate_object THEN NULL; END $$`,
    `CREATE SCHEMA IF NOT EXISTS ${names.schema} AUTHORIZATION ${names.ownerRole}`,
    // PostgreSQL 15 no longer lets PUBLIC create in the public schema; make sure nobody relies on it.
    `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${names.schema} TO ${names.appRole}`,
    `GRANT USAGE ON SCHEMA ${names.schema} TO ${names.purgeRole}`,
  ];
}
