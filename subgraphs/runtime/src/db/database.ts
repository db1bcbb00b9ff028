import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import { applyMigrations } from './migrate.ts';
import type { Migration, MigrationReport } from './migrate.ts';
import { bootstrapStatements } from './roles.ts';
import type { ServiceDatabaseNames } from './roles.ts';
import { pgliteSession, pgSession } from './sql-session.ts';

export type DatabaseSettings =
  | {
      readonly kind: 'pglite';
      /** A folder, or `memory://` for a database that lives only as long as the process. */
      readonly dataDir: string;
    }
  | {
      readonly kind: 'postgres';
      /** Connects as the application role: owns nothing, cannot bypass row-level security. */
      readonly appUrl: string;
      /** Connects as the owner role: used for migrations only. */
      readonly migrationUrl: string;
      readonly poolMax: number;
      readonly statementTimeoutMs: number;
    };

/**
 * The variables that make a service with this prefix (IDENTITY, ...) use these settings: what the
 * stack launcher hands each service process, and what the key commands need to reach the same data.
 */
export function databaseEnv(prefix: string, settings: DatabaseSettings): Record<string, string> {
  return settings.kind === 'pglite'
    ? { [`${prefix}_PGLITE_DIR`]: settings.dataDir }
    : { [`${prefix}_DATABASE_URL`]: settings.appUrl, [`${prefix}_MIGRATION_DATABASE_URL`]: settings.migrationUrl };
}

export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = PgTransaction<
  PgQueryResultHKT,
  Record<string, never>,
  ExtractTablesWithRelations<Record<string, never>>
>;

export interface DatabaseHooks {
  /** Called with each SQL statement the application role sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
}

export interface ServiceDatabase {
  readonly kind: DatabaseSettings['kind'];
  /** The application role's connection(s). Reach it only through the data access path. */
  readonly db: Db;
  migrate(migrations: readonly Migration[]): Promise<MigrationReport>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openServiceDatabase(
  settings: DatabaseSettings,
  names: ServiceDatabaseNames,
  hooks: DatabaseHooks = {},
): Promise<ServiceDatabase> {
  const logger = hooks.onQuery === undefined ? undefined : { logQuery: (query: string) => hooks.onQuery?.(query) };
  return settings.kind === 'pglite'
    ? openPglite(settings.dataDir, names, logger)
    : openPostgres(settings, names, logger);
}

type QueryLogger = { logQuery(query: string): void } | undefined;

async function openPglite(dataDir: string, names: ServiceDatabaseNames, logger: QueryLogger): Promise<ServiceDatabase> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir });
  // PGlite's only connection is a superuser: bootstrap the roles, then drop to the application role
  // for good. Superusers bypass row-level security, so serving as one would silently disable it.
  for (const statement of bootstrapStatements(names, { login: false })) await client.exec(statement);
  await client.exec(`SET ROLE ${names.appRole}`);
  const db: Db = drizzlePglite({ client, ...(logger === undefined ? {} : { logger }) });
  return {
    kind: 'pglite',
    db,
    // SET LOCAL ROLE inside the transaction: when it ends the connection is the application role again.
    migrate: (migrations) =>
      client.transaction((tx) => applyMigrations(pgliteSession(tx), names, migrations, { asOwnerRole: true })),
    ping: async () => {
      await client.query('SELECT 1');
    },
    close: () => client.close(),
  };
}

async function openPostgres(
  settings: Extract<DatabaseSettings, { kind: 'postgres' }>,
  names: ServiceDatabaseNames,
  logger: QueryLogger,
): Promise<ServiceDatabase> {
  const pool = new pg.Pool({
    connectionString: settings.appUrl,
    max: settings.poolMax,
    statement_timeout: settings.statementTimeoutMs,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db: Db = drizzlePostgres({ client: pool, ...(logger === undefined ? {} : { logger }) });
  return {
    kind: 'postgres',
    db,
    async migrate(migrations) {
      const client = new pg.Client({ connectionString: settings.migrationUrl, connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        await client.query('BEGIN');
        const report = await applyMigrations(pgSession(client), names, migrations, { asOwnerRole: false });
        await client.query('COMMIT');
        return report;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        await client.end();
      }
    },
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
