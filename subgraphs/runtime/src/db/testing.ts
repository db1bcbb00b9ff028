import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../config/reader.ts';
import type { DatabaseSettings } from './database.ts';
import { provisionDatabase } from './provision.ts';

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
