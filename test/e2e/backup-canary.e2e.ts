import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ServiceName } from '@numezis/runtime';
import { newCanaries } from '../src/canaries.ts';
import type { Canaries } from '../src/canaries.ts';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { createWorkspace } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// The backup promise (issue #6): a backup of the whole database holds the personal data only
// sealed, and no log holds it at all. Its own stack, at debug level, so every log line of every
// service is captured. On PostgreSQL the backup is a superuser's pg_dump; on embedded PGlite it is
// a copy of the services' data folders, read after the services stopped cleanly.
const adminUrl = process.env.DATABASE_URL ?? '';
const services: readonly ServiceName[] = ['gateway', 'identity', 'accounting', 'documents', 'audit'];
const subgraphs = ['identity', 'accounting', 'documents', 'audit'] as const;
const sealed = /^v1\.[1-9][0-9]*\.[A-Za-z0-9_-]+$/;

const contactMutation = 'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }';

/** The whole database, as a superuser dumps it for a backup (row-level security does not apply to one). */
async function pgDump(databaseName: string): Promise<string> {
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  const { stdout } = await promisify(execFile)('pg_dump', ['--format=plain', `--dbname=${url.toString()}`], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** Every file under the folders, recursively: what a copy of PGlite data folders holds. */
async function filesUnder(dirs: readonly string[]): Promise<string[]> {
  const lists = await Promise.all(
    dirs.map(async (dir) =>
      (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name)),
    ),
  );
  return lists.flat();
}

/** The rows of a table's COPY block in a plain dump, each as column → text (`\N` for null). */
function copyRows(dump: string, table: string): Record<string, string>[] {
  const lines = dump.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`COPY ${table} (`));
  if (start === -1) return [];
  const columns = /\((.*)\) FROM stdin;$/.exec(lines[start] ?? '')?.[1]?.split(', ') ?? [];
  const end = lines.indexOf('\\.', start);
  return lines
    .slice(start + 1, end)
    .map((line) => Object.fromEntries(line.split('\t').map((value, index) => [columns[index] ?? `#${index}`, value])));
}

/**
 * Which of the canaries occur in `text`, ignoring case: each form as written, and the IBAN, the AHV
 * digits and the street also with spaces, dots, dashes and URL-encoded spaces taken out of `text`.
 */
function canariesIn(text: string, canaries: Canaries): string[] {
  const lower = text.toLowerCase();
  const compact = lower.replace(/%20|[\s.+-]/g, '');
  const forms: Record<string, string> = { ...canaries };
  const written = Object.entries(forms).filter(([, value]) => lower.includes(value.toLowerCase()));
  const squeezed = Object.entries({ iban: canaries.iban, ahvDigits: canaries.ahvDigits, street: canaries.street })
    .filter(([, value]) => compact.includes(value.toLowerCase()))
    .map(([name]) => `${name} (compacted)`);
  return [...written.map(([name]) => name), ...squeezed];
}

/** Resolves once each request `service` logged as incoming is also logged as completed (debug level). */
async function everyRequestCompleted(stack: TestStack, service: ServiceName): Promise<void> {
  const incoming = stack
    .logs(service)
    .filter((line) => line.includes('"msg":"incoming request"'))
    .map((line) => (JSON.parse(line) as { requestId?: unknown }).requestId);
  await Promise.all(
    incoming.map((id) =>
      stack.waitForLog(
        service,
        (line) => line.includes('"msg":"request completed"') && line.includes(`"requestId":${JSON.stringify(id)}`),
      ),
    ),
  );
}

describe('backup canary', () => {
  let stack: TestStack;
  let admin: Workspace;
  let canaries: Canaries;
  let contactId: string;
  let employeeId: string;
  let duplicate: GraphQLResult<unknown>;
  let dump: string;

  before(async () => {
    stack = await startTestStack({
      serviceEnv: Object.fromEntries(services.map((service) => [service, { LOG_LEVEL: 'debug' }])),
    });
    canaries = newCanaries();
    admin = await createWorkspace(stack);
    const address = { street: canaries.street, buildingNumber: '7', postcode: '3011', town: 'Bern', country: 'CH' };
    contactId = dataOf(
      await graphql<{ createContact: { id: string } }>(stack.gatewayUrl, contactMutation, {
        as: admin,
        variables: { input: { kind: 'SUPPLIER', name: 'Kanarienvogel AG', address, iban: canaries.ibanFormatted } },
      }),
    ).createContact.id;
    employeeId = dataOf(
      await graphql<{ createEmployee: { id: string } }>(
        stack.gatewayUrl,
        'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
        { as: admin, variables: { input: { name: 'Kanarienvogel Hans', address, ahvNumber: canaries.ahvDotted } } },
      ),
    ).createEmployee.id;
    // An error path with a canary in it: the same IBAN again is a duplicate.
    duplicate = await graphql(stack.gatewayUrl, contactMutation, {
      as: admin,
      variables: { input: { kind: 'CUSTOMER', name: 'Doppelvogel AG', address, iban: canaries.iban.toLowerCase() } },
    });
  });
  after(() => stack?.close());

  it('gives the plaintext back to a role that may read it', async () => {
    const { contact, contactByIban, employee } = dataOf(
      await graphql<{
        contact: { iban: { electronic: string; formatted: string }; address: { street: string } };
        contactByIban: { id: string };
        employee: { ahvNumber: string; ahvNumberUnmasked: string; address: { street: string } };
      }>(
        stack.gatewayUrl,
        `
          query ($contact: ID!, $employee: ID!, $iban: String!) {
            contact(id: $contact) {
              iban {
                electronic
                formatted
              }
              address {
                street
              }
            }
            contactByIban(iban: $iban) {
              id
            }
            employee(id: $employee) {
              ahvNumber
              ahvNumberUnmasked
              address {
                street
              }
            }
          }
        `,
        { as: admin, variables: { contact: contactId, employee: employeeId, iban: canaries.ibanFormatted } },
      ),
    );
    assert.deepEqual(contact, {
      iban: { electronic: canaries.iban, formatted: canaries.ibanFormatted },
      address: { street: canaries.street },
    });
    assert.equal(contactByIban.id, contactId);
    assert.deepEqual(employee, {
      ahvNumber: `756.****.****.${canaries.ahvDigits.slice(11)}`,
      ahvNumberUnmasked: canaries.ahvDotted,
      address: { street: canaries.street },
    });
  });

  it('refuses a duplicate IBAN without repeating it', () => {
    assert.equal(errorCode(duplicate), 'BAD_USER_INPUT', duplicate.text);
    assert.deepEqual(canariesIn(duplicate.text, canaries), []);
  });

  if (adminUrl !== '') {
    describe('a superuser pg_dump of the whole database', () => {
      before(async () => {
        assert.ok(stack.databaseName !== undefined, 'the stack runs on PostgreSQL');
        dump = await pgDump(stack.databaseName);
      });

      it('holds the canary rows, every service schema and the workspace (positive control)', () => {
        for (const service of ['identity', 'accounting', 'documents', 'audit']) {
          assert.match(dump, new RegExp(`^CREATE SCHEMA ${service};$`, 'm'), `schema ${service} in the dump`);
        }
        assert.ok(
          copyRows(dump, 'accounting.contacts').some((row) => row.id === contactId),
          'the contact row is in the dump',
        );
        assert.ok(
          copyRows(dump, 'accounting.employees').some((row) => row.id === employeeId),
          'the employee row is in the dump',
        );
        assert.ok(dump.includes(admin.workspaceId) && dump.includes(admin.userId), 'identity rows are in the dump');
      });

      it('holds the IBAN, the AHV number and the streets sealed (v1.<dekVersion>.<base64url>)', () => {
        const contact = copyRows(dump, 'accounting.contacts').find((row) => row.id === contactId);
        const employee = copyRows(dump, 'accounting.employees').find((row) => row.id === employeeId);
        assert.ok(contact !== undefined && employee !== undefined, 'both rows are in the dump');
        for (const [table, row, column] of [
          ['contacts', contact, 'iban'],
          ['contacts', contact, 'street'],
          ['employees', employee, 'ahv_number'],
          ['employees', employee, 'street'],
        ] as const) {
          assert.match(row[column] ?? `(no column ${column})`, sealed, `accounting.${table}.${column}`);
        }
      });

      it('holds none of the canaries in plain text', () => {
        assert.deepEqual(canariesIn(dump, canaries), []);
      });
    });
  } else {
    // Each file is read as bytes shown as latin1: short text values sit in PostgreSQL's pages as
    // they are, so plaintext would show here exactly as in a dump.
    describe("a copy of the embedded databases' folders", () => {
      let files: string[];
      const textOf = (file: string) => readFile(file, 'latin1');

      before(async () => {
        // A clean stop writes every page to disk, as a backup of a stopped service would see it.
        await Promise.all(subgraphs.map((service) => stack.stop(service)));
        try {
          files = await filesUnder(
            subgraphs.map((service) => {
              const settings = stack.databases[service];
              assert.equal(settings.kind, 'pglite');
              return settings.dataDir;
            }),
          );
        } finally {
          await Promise.all(subgraphs.map((service) => stack.start(service)));
        }
      });

      it('holds the contact and employee rows with their values sealed (positive control)', async () => {
        const found = { contact: false, employee: false, sealedValue: false };
        for (const file of files) {
          const text = await textOf(file);
          found.contact ||= text.includes('Kanarienvogel AG');
          found.employee ||= text.includes('Kanarienvogel Hans');
          found.sealedValue ||= /v1\.[1-9][0-9]*\.[A-Za-z0-9_-]{40,}/.test(text);
        }
        assert.deepEqual(found, { contact: true, employee: true, sealedValue: true });
      });

      it('holds none of the canaries in plain text', async () => {
        const leaks: string[] = [];
        for (const file of files)
          leaks.push(...canariesIn(await textOf(file), canaries).map((form) => `${form} in ${file}`));
        assert.deepEqual(leaks, []);
      });
    });
  }

  it('no service logged any of the canaries', async () => {
    // Every request of this test has been answered; wait until its lines have crossed the pipes.
    const requestId = duplicate.body.errors?.[0]?.extensions?.requestId;
    assert.equal(typeof requestId, 'string', duplicate.text);
    await stack.waitForLog(
      'gateway',
      (line) => line.includes(String(requestId)) && line.includes('"msg":"request completed"'),
    );
    await Promise.all(services.map((service) => everyRequestCompleted(stack, service)));
    for (const service of services) {
      const lines = stack.logs(service);
      // The launcher keeps a service's last 2,000 lines: fewer means none was dropped unread.
      assert.ok(lines.length > 0 && lines.length < 2_000, `${service}: ${lines.length} lines captured, none dropped`);
      const found = lines.flatMap((line) => canariesIn(line, canaries).map((form) => `${form}: ${line}`));
      assert.deepEqual(found, [], `${service} logged a canary`);
    }
  });
});
