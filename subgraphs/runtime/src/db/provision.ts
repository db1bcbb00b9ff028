import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseSettings } from './database.ts';
import { bootstrapStatements, serviceDatabaseNames } from './roles.ts';

export interface ProvisionedDatabase {
  readonly name: string;
  settingsFor(service: string): Extract<DatabaseSettings, { kind: 'postgres' }>;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on a PostgreSQL server and bootstraps each service's roles and schema in
 * it, as a superuser would in production. Tests and CI use it so that every run starts clean and
 * runs as the same non-owner application roles as production.
 */
export async function provisionDatabase(adminUrl: string, services: readonly string[]): Promise<ProvisionedDatabase> {
  const name = `numezis_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const databaseUrl = withPath(adminUrl, name);
  await withClient(databaseUrl, async (client) => {
    for (const service of services) {
      for (const statement of bootstrapStatements(serviceDatabaseNames(service), { login: true })) {
        await client.query(statement);
      }
    }
  });
  return {
    name,
    settingsFor(service) {
      const names = serviceDatabaseNames(service);
      return {
        kind: 'postgres',
        appUrl: withUser(databaseUrl, names.appRole),
        migrationUrl: withUser(databaseUrl, names.ownerRole),
        poolMax: 5,
        statementTimeoutMs: 15_000,
      };
    },
    drop: () =>
      withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withPath(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function withUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = '';
  return parsed.toString();
}
