import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { ServiceDatabaseNames } from './roles.ts';
import type { SqlSession } from './sql-session.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files in version order; anything else in the folder is an error. */
export async function loadMigrations(directory: URL): Promise<Migration[]> {
  const files = (await readdir(directory)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = fileNamePattern.exec(file);
    if (match === null) throw new Error(`unexpected file in migrations folder: ${file}`);
    const sql = await readFile(new URL(file, directory), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2] ?? file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(`migration versions must be 1..n without gaps (${file(migration)})`);
  });
  return migrations;
}

const file = (migration: Migration) => `${String(migration.version).padStart(4, '0')}_${migration.name}.sql`;

export interface MigrationReport {
  readonly applied: readonly number[];
}

/**
 * Applies the pending migrations in one transaction under an advisory lock, so replicas starting at
 * once apply each migration exactly once and a failed migration leaves nothing half-done. A
 * migration that was applied and then edited stops the start: history is never rewritten.
 *
 * `runInTransaction` gives the session on which BEGIN has already run; `asRole` switches to the
 * owner role inside it when the connection belongs to a superuser (PGlite).
 */
export async function applyMigrations(
  session: SqlSession,
  names: ServiceDatabaseNames,
  migrations: readonly Migration[],
  options: { asOwnerRole: boolean },
): Promise<MigrationReport> {
  if (options.asOwnerRole) await session.exec(`SET LOCAL ROLE ${names.ownerRole}`);
  await session.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`numezis.migrate.${names.schema}`]);
  await session.exec(
    `CREATE TABLE IF NOT EXISTS ${names.schema}.schema_migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const rows = await session.query<{ version: number; checksum: string }>(
    `SELECT version, checksum FROM ${names.schema}.schema_migrations ORDER BY version`,
  );
  const appliedChecksums = new Map(rows.map((row) => [row.version, row.checksum]));
  const applied: number[] = [];
  for (const migration of migrations) {
    const existing = appliedChecksums.get(migration.version);
    if (existing !== undefined) {
      if (existing !== migration.checksum) {
        throw new Error(`migration ${file(migration)} was changed after it was applied to ${names.schema}`);
      }
      continue;
    }
    await session.exec(migration.sql);
    await session.query(`INSERT INTO ${names.schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    applied.push(migration.version);
  }
  return { applied };
}
