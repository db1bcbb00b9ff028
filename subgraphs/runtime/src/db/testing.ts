import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../config/reader.ts';
import { createDataAccess } from './data-access.ts';
import type { DataAccess } from './data-access.ts';
import { openServiceDatabase } from './database.ts';
import type { DatabaseSettings } from './database.ts';
import { loadMigrations } from './migrate.ts';
import { provisionDatabase } from './provision.ts';
import { serviceDatabaseNames } from './roles.ts';

export interface TestDatabases {
  readonly kind: 'postgres' | 'pglite';
  settingsFor(service: string): DatabaseSettings;
  dispose(): Promise<void>;
}

/**
 * Storage for a test run: a fresh database on the PostgreSQL server named by DATABASE_URL (a
 * superuser URL) when it is set, embedded PGlite in a temporary folder otherwise. Either way the
 * services run as their non-owner application roles.
 */
export async function createTestDatabases(env: Env, services: readonly string[]): Promise<TestDatabases> {
  const adminUrl = env.DATABASE_URL;
  if (adminUrl !== undefined && adminUrl !== '') {
    const provisioned = await provisionDatabase(adminUrl, services);
    return {
      kind: 'postgres',
      settingsFor: (service) => provisioned.settingsFor(service),
      dispose: () => provisioned.drop(),
    };
  }
  const root = await mkdtemp(join(tmpdir(), 'numezis-pglite-'));
  return {
    kind: 'pglite',
    settingsFor: (service) => ({ kind: 'pglite', dataDir: join(root, service) }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * One service's database, migrated, behind its data access path: for unit tests of queries and
 * row-level-security policies, on the same storage choice as `createTestDatabases`.
 */
export async function openMigratedTestDatabase(
  env: Env,
  service: string,
  migrationsDir: URL,
): Promise<{ dataAccess: DataAccess; close: () => Promise<void> }> {
  const databases = await createTestDatabases(env, [service]);
  const database = await openServiceDatabase(databases.settingsFor(service), serviceDatabaseNames(service));
  try {
    await database.migrate(await loadMigrations(migrationsDir));
  } catch (error) {
    await database.close();
    await databases.dispose();
    throw error;
  }
  return {
    dataAccess: createDataAccess(database.db),
    close: async () => {
      await database.close();
      await databases.dispose();
    },
  };
}
