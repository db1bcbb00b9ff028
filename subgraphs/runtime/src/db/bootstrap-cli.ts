// `npm run db:bootstrap`: creates each service's roles and schema on a PostgreSQL server, as a
// superuser, once per database (idempotent). DATABASE_URL names the superuser connection;
// NUMEZIS_ROLE_PASSWORD, when set, becomes the password of every service role (local setups such
// as docker-compose; production gives each role its own credential or IAM identity).
import pg from 'pg';
import { describeStartupError } from '../server/run.ts';
import { bootstrapStatements, serviceDatabaseNames } from './roles.ts';

const services = ['identity', 'accounting', 'documents', 'audit'];
const url = process.env.DATABASE_URL;
const password = process.env.NUMEZIS_ROLE_PASSWORD;
if (url === undefined || url === '') {
  process.stderr.write('db:bootstrap: DATABASE_URL (a superuser connection) is required\n');
  process.exit(1);
}

const client = new pg.Client({ connectionString: url });
try {
  await client.connect();
  for (const service of services) {
    const names = serviceDatabaseNames(service);
    for (const statement of bootstrapStatements(names, { login: true })) await client.query(statement);
    if (password !== undefined && password !== '') {
      for (const role of [names.ownerRole, names.appRole]) {
        await client.query(`ALTER ROLE ${role} PASSWORD ${client.escapeLiteral(password)}`);
      }
    }
    process.stdout.write(`db:bootstrap: ${service} ready (schema ${names.schema})\n`);
  }
} catch (error) {
  process.stderr.write(`db:bootstrap: ${describeStartupError(error)}\n`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
