// `npm run audit:repository-scoping`: migrates every service into a fresh database on the server
// named by DATABASE_URL (a superuser connection), exactly as the services migrate at start-up,
// audits the catalog for tenant isolation (see repository-scoping.ts), and drops the database again.
// Exit code 1 when anything is reported, so CI stops before a migration that weakens isolation ships.
import pg from 'pg';
import { openServiceDatabase } from '../db/database.ts';
import { loadMigrations } from '../db/migrate.ts';
import { provisionDatabase } from '../db/provision.ts';
import type { ProvisionedDatabase } from '../db/provision.ts';
import { serviceDatabaseNames } from '../db/roles.ts';
import { describeStartupError } from '../server/run.ts';
import { subgraphNames } from '../stack/launch.ts';
import { auditRepositoryScoping } from './repository-scoping.ts';

const command = 'audit:repository-scoping';
const adminUrl = process.env.DATABASE_URL;
if (adminUrl === undefined || adminUrl === '') {
  process.stderr.write(`${command}: DATABASE_URL (a superuser connection to PostgreSQL) is required\n`);
  process.exit(1);
}

let provisioned: ProvisionedDatabase | undefined;
try {
  provisioned = await provisionDatabase(adminUrl, subgraphNames);
  for (const service of subgraphNames) {
    const database = await openServiceDatabase(provisioned.settingsFor(service), serviceDatabaseNames(service));
    try {
      await database.migrate(await loadMigrations(new URL(`../../../${service}/migrations/`, import.meta.url)));
    } catch (error) {
      throw new Error(`${service}: migrations failed: ${describeStartupError(error)}`, { cause: error });
    } finally {
      await database.close();
    }
  }

  // The audit reads catalogs only a superuser sees whole (every role's objects and memberships).
  const url = new URL(adminUrl);
  url.pathname = `/${provisioned.name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const violations = await auditRepositoryScoping(client, subgraphNames).finally(() => client.end());

  for (const violation of violations) {
    process.stderr.write(`${violation.service}: ${violation.object}: ${violation.message} [${violation.rule}]\n`);
  }
  const scope = `${subgraphNames.length} service schemas (${subgraphNames.join(', ')})`;
  if (violations.length === 0) {
    process.stdout.write(`${command}: no violations in ${scope}\n`);
  } else {
    const count = violations.length === 1 ? '1 violation' : `${violations.length} violations`;
    process.stderr.write(`${command}: ${count} in ${scope}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  // describeStartupError points at the services' own URL settings; here only DATABASE_URL is in play.
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND';
  const problem = unreachable
    ? `cannot reach PostgreSQL at DATABASE_URL (${(error as Error).message})`
    : describeStartupError(error);
  process.stderr.write(`${command}: ${problem}\n`);
  process.exitCode = 1;
} finally {
  await provisioned?.drop().catch((error: unknown) => {
    process.stderr.write(`${command}: could not drop database ${provisioned?.name}: ${describeStartupError(error)}\n`);
    process.exitCode = 1;
  });
}
