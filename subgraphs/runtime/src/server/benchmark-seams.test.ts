import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { auditChange } from '../audit/mutation-audit.ts';
import { auditOutboxMigrationSql, auditRelayJobName, outboxTable } from '../audit/outbox.ts';
import { readSubgraphConfig } from '../config/subgraph.ts';
import { systemAccess } from '../context/access-mode.ts';
import {
  contextHeader,
  createContextSigner,
  generateContextKeyPair,
  parseSigningKey,
} from '../context/signed-context.ts';
import type { ForwardedContext } from '../context/signed-context.ts';
import { systemClock } from '../clock.ts';
import { dataKeysMigrationSql } from '../crypto/data-keys-table.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import { createTestDatabases } from '../db/testing.ts';
import type { TestDatabases } from '../db/testing.ts';
import { rolePermissions } from '../policy/roles.ts';
import { defineApolloSubgraph } from './apollo-subgraph.ts';
import type { SubgraphContext } from './apollo-subgraph.ts';
import { createSubgraphService } from './subgraph-service.ts';
import type { BenchmarkSeams, SubgraphDefinition, SubgraphService } from './subgraph-service.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.

const service = 'seamtest';
const sdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query {
  ok: Boolean @public
}
type Mutation {
  createContact(name: String!): String @tenantScoped @requiresPermission(permission: ACCOUNTING_WRITE)
}
`;

// A plaintext stand-in, as the benchmark's "encryption off" uses.
const plaintext: FieldCipher = {
  encryptField: async (_ref, value) => value,
  decryptField: async (_ref, value) => value,
  blindIndex: async (_ref, value) => value,
};

/** A subgraph whose one mutation seals its input and records its change, as accounting's createContact does. */
function definitionIn(dir: string): SubgraphDefinition {
  return defineApolloSubgraph<SubgraphContext>({
    name: service,
    defaultPort: 4999,
    files: {
      schemaFile: pathToFileURL(join(dir, 'schema.graphql')),
      migrationsDir: pathToFileURL(join(dir, 'migrations') + '/'),
      defaultDataDir: join(dir, 'data'),
    },
    resolvers: ({ dataAccess, encryption }) => ({
      Mutation: {
        createContact: async (_: unknown, { name }: { name: string }, context: SubgraphContext) => {
          const { access } = context.forwarded;
          if (access.kind !== 'tenant') throw new Error('a tenant is needed');
          const id = randomUUID();
          const ref = { tenantId: access.tenantId, table: 'contacts', column: 'name', rowId: id };
          const sealed = await encryption.fields.encryptField(ref, name);
          await dataAccess.inTenant(access.tenantId, (tx) => auditChange(tx, { targets: [{ type: 'Contact', id }] }));
          return sealed;
        },
      },
    }),
    context: (_dependencies, forwarded) => ({ forwarded }),
  });
}

describe('benchmark seams of createSubgraphService', () => {
  let dir: string;
  const keys = generateContextKeyPair('test');
  const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });
  const started: { service: SubgraphService; databases: TestDatabases }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'numezis-seams-'));
    await mkdir(join(dir, 'migrations'));
    await writeFile(join(dir, 'schema.graphql'), sdl);
    await writeFile(join(dir, 'migrations', '0001_data_keys.sql'), dataKeysMigrationSql(service));
    await writeFile(join(dir, 'migrations', '0002_audit_outbox.sql'), auditOutboxMigrationSql(service));
  });
  after(async () => {
    for (const { service: running, databases } of started) {
      await running.close();
      await databases.dispose();
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function start(seams?: BenchmarkSeams): Promise<SubgraphService> {
    const databases = await createTestDatabases(process.env, [service]);
    const definition = definitionIn(dir);
    const config = readSubgraphConfig(
      {
        CONTEXT_VERIFY_KEYS: keys.verifyKey,
        LOG_LEVEL: 'warn',
        KMS_LOCAL_MASTER_KEY: randomBytes(32).toString('base64url'),
      },
      definition,
    );
    const running = await createSubgraphService(
      definition,
      { ...config, database: databases.settingsFor(service) },
      {},
      seams,
    );
    started.push({ service: running, databases });
    return running;
  }

  async function createContact(running: SubgraphService, tenantId: string, name: string) {
    const context: ForwardedContext = {
      requestId: randomUUID(),
      clientIp: '127.0.0.1',
      userAgent: 'unit-test',
      actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID() },
      access: { kind: 'tenant', tenantId, role: 'ADMIN', permissions: rolePermissions.ADMIN },
      mfaAt: null,
      mfaRequired: false,
    };
    const response = await running.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { [contextHeader]: signer.sign(context, service), 'content-type': 'application/json' },
      payload: { query: 'mutation ($name: String!) { createContact(name: $name) }', variables: { name } },
    });
    return response.json<{ data?: { createContact: string }; errors?: unknown[] }>();
  }

  const outboxRows = (running: SubgraphService) => {
    const outbox = outboxTable(service);
    return running.dataAccess.unsafeAsSystem(systemAccess(auditRelayJobName(service)), (tx) =>
      tx.select({ event: outbox.event }).from(outbox),
    );
  };

  it('changes nothing without seams: the value is sealed and the mutation leaves one event', async () => {
    const running = await start();
    const body = await createContact(running, randomUUID(), 'Müller AG');
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.match(body.data?.createContact ?? '', /^v1\.1\.[A-Za-z0-9_-]+$/);
    const rows = await outboxRows(running);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.event.action, 'contact.created');
    assert.equal(rows[0]?.event.outcome, 'success');
  });

  it('with recordAudit false and a plaintext cipher, writes no event and seals nothing', async () => {
    const running = await start({ recordAudit: false, fieldCipher: () => plaintext });
    const body = await createContact(running, randomUUID(), 'Müller AG');
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.createContact, 'Müller AG');
    assert.deepEqual(await outboxRows(running), []);
  });

  it('leaves auditChange failing outside a mutation, seams or not', async () => {
    const running = await start({ recordAudit: false });
    await assert.rejects(
      running.dataAccess.inTenant(randomUUID(), (tx) => auditChange(tx, {})),
      /outside an audited mutation/,
    );
  });
});
