import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { SubgraphName } from '@numezis/runtime';
import type { TestStack } from './test-stack.ts';

export type SuperuserQuery = <Row extends Record<string, unknown>>(text: string, params?: unknown[]) => Promise<Row[]>;

/**
 * Runs `work` as a database superuser on `service`'s data, past row-level security and the
 * grants: what an attacker with the database (or an operator with a bad idea) could do. On PGlite
 * the service is stopped while its folder is open, then started again.
 */
export async function asDatabaseSuperuser<T>(
  stack: TestStack,
  service: SubgraphName,
  work: (query: SuperuserQuery) => Promise<T>,
): Promise<T> {
  const settings = stack.databases[service];
  if (settings.kind === 'postgres') {
    const adminUrl = process.env.DATABASE_URL;
    if (adminUrl === undefined || stack.databaseName === undefined) throw new Error('DATABASE_URL is not set');
    const url = new URL(adminUrl);
    url.pathname = `/${encodeURIComponent(stack.databaseName)}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(
        async <Row>(text: string, params?: unknown[]) =>
          (await client.query<Row & pg.QueryResultRow>(text, params)).rows,
      );
    } finally {
      await client.end();
    }
  }
  await stack.stop(service);
  const database = await PGlite.create({ dataDir: settings.dataDir });
  try {
    return await work(async <Row>(text: string, params?: unknown[]) => (await database.query<Row>(text, params)).rows);
  } finally {
    await database.close();
    await stack.start(service);
  }
}
