import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { createTestDatabases, databaseEnv, generateContextKeyPair, startStack, subgraphNames } from '@numezis/runtime';
import type { DatabaseSettings, RunningStack, ServiceName, SubgraphName } from '@numezis/runtime';

export interface TestStack extends RunningStack {
  readonly signingKey: string;
  readonly databaseKind: 'postgres' | 'pglite';
  /** On PostgreSQL, the one database that holds every service's schema; undefined on PGlite. */
  readonly databaseName: string | undefined;
  /** Where each subgraph's data lives (on PGlite, its own folder). */
  readonly databases: Readonly<Record<SubgraphName, DatabaseSettings>>;
  /** Where identity's development mail lands. */
  readonly outboxDir: string;
  /** The documents service's blob store folder. */
  readonly blobDir: string;
  /** The local KMS master key file every service of this stack shares. */
  readonly kmsKeyFile: string;
  /** What `npm run keys` needs to reach this stack's databases and KMS. */
  readonly keyCommandEnv: Readonly<Record<string, string>>;
  subgraphUrl(name: SubgraphName): string;
}

const repoRoot = new URL('../../', import.meta.url);
const relayEvery = { AUDIT_RELAY_INTERVAL_MS: '100' };

/** Five real processes on free loopback ports, on PostgreSQL when DATABASE_URL is set, else PGlite. */
export async function startTestStack(
  options: { serviceEnv?: Partial<Record<ServiceName, Record<string, string>>> } = {},
): Promise<TestStack> {
  const databases = await createTestDatabases(process.env, subgraphNames);
  const outboxDir = await mkdtemp(join(tmpdir(), 'numezis-outbox-'));
  const blobDir = await mkdtemp(join(tmpdir(), 'numezis-document-files-'));
  const kmsDir = await mkdtemp(join(tmpdir(), 'numezis-kms-'));
  const kmsKeyFile = join(kmsDir, 'local-kms-key.json');
  const removeFolders = () =>
    Promise.all([outboxDir, blobDir, kmsDir].map((dir) => rm(dir, { recursive: true, force: true })));
  const keys = generateContextKeyPair('e2e');
  const [gateway, identity, accounting, documents, audit] = await freePorts(5);
  const ports = { gateway, identity, accounting, documents, audit } as Record<ServiceName, number>;
  try {
    const settings = Object.fromEntries(subgraphNames.map((name) => [name, databases.settingsFor(name)])) as Record<
      SubgraphName,
      DatabaseSettings
    >;
    const stack = await startStack({
      repoRoot,
      ports,
      databases: settings,
      baseEnv: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        CONTEXT_SIGNING_KEY: keys.signingKey,
        CONTEXT_VERIFY_KEYS: keys.verifyKey,
        KMS_LOCAL_KEY_FILE: kmsKeyFile,
      },
      serviceEnv: {
        ...options.serviceEnv,
        // Tests name their client address in X-Forwarded-For, so per-IP limits stay per test.
        gateway: {
          GATEWAY_TRUST_PROXY: '127.0.0.1',
          // The whole suite comes from one machine: rate limits are tested on a stack of their own.
          GATEWAY_RATE_LIMIT_PER_IP: '1000000',
          GATEWAY_RATE_LIMIT_PER_API_KEY: '1000000',
          GATEWAY_RATE_LIMIT_PER_WORKSPACE: '1000000',
          GATEWAY_SUBSCRIPTION_RECHECK_MS: '200',
          ...options.serviceEnv?.gateway,
        },
        // Audit events reach the trail within a tenth of a second; revoked subscribers go as fast.
        identity: { IDENTITY_MAIL_OUTBOX_DIR: outboxDir, ...relayEvery, ...options.serviceEnv?.identity },
        documents: { DOCUMENTS_BLOB_DIR: blobDir, ...relayEvery, ...options.serviceEnv?.documents },
        accounting: { ...relayEvery, ...options.serviceEnv?.accounting },
      },
      output: 'capture',
    });
    return {
      ...stack,
      signingKey: keys.signingKey,
      databaseKind: databases.kind,
      databaseName: databaseNameOf(settings.accounting),
      databases: settings,
      outboxDir,
      blobDir,
      kmsKeyFile,
      keyCommandEnv: Object.assign(
        { NODE_ENV: 'test', KMS_LOCAL_KEY_FILE: kmsKeyFile },
        ...subgraphNames.map((name) => databaseEnv(name.toUpperCase(), settings[name])),
      ) as Record<string, string>,
      subgraphUrl: (name) => `http://127.0.0.1:${ports[name]}/graphql`,
      async close() {
        await stack.close();
        await databases.dispose();
        await removeFolders();
      },
    };
  } catch (error) {
    await databases.dispose();
    await removeFolders();
    throw error;
  }
}

function databaseNameOf(settings: DatabaseSettings): string | undefined {
  return settings.kind === 'postgres' ? decodeURIComponent(new URL(settings.appUrl).pathname.slice(1)) : undefined;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<Server>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
