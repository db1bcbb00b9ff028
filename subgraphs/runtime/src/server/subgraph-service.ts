import type { FastifyInstance } from 'fastify';
import type { SubgraphConfig } from '../config/subgraph.ts';
import { readSubgraphConfig } from '../config/subgraph.ts';
import type { Env } from '../config/reader.ts';
import { createContextVerifier } from '../context/signed-context.ts';
import { createDataAccess } from '../db/data-access.ts';
import type { DataAccess } from '../db/data-access.ts';
import { openServiceDatabase } from '../db/database.ts';
import type { DatabaseHooks } from '../db/database.ts';
import { loadMigrations } from '../db/migrate.ts';
import { serviceDatabaseNames } from '../db/roles.ts';
import { createHttpServer, registerHealthRoutes, withTimeout } from './http.ts';
import { requireSignedContext } from './require-signed-context.ts';
import { scheduleSystemJobs } from '../jobs/system-jobs.ts';
import { httpAuditSender } from '../audit/audit-sender.ts';
import { auditRelayJob } from '../audit/relay.ts';
import type { SystemJob } from '../jobs/system-jobs.ts';
import { listen, runService } from './run.ts';
import { createFieldCipher } from '../crypto/field-cipher.ts';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import { createKeyring } from '../crypto/keyring.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { KeyManagementService } from '../crypto/kms.ts';
import { openKms } from '../crypto/open-kms.ts';
import { configureErrorReporting } from '../observability/error-reporting.ts';
import { createServiceMetrics, registerMetrics } from '../observability/metrics.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';

export interface SubgraphDependencies {
  readonly config: SubgraphConfig;
  readonly dataAccess: DataAccess;
  /** The KMS, and the service's workspace keyring with field encryption on top of it. */
  readonly encryption: ServiceEncryption;
  /** Served at /metrics; GraphQL servers add their operations with `graphqlMetricsPlugin`. */
  readonly metrics: ServiceMetrics;
  /** Set only by the benchmark (see `BenchmarkSeams`); Apollo subgraphs honour `recordAudit`. */
  readonly benchmarkSeams?: Pick<BenchmarkSeams, 'recordAudit'>;
}

/**
 * For the benchmark only: measures what encryption and the audit outbox cost; never set by a
 * service's main. No setting or environment variable reaches it: `runSubgraph` never passes one.
 */
export interface BenchmarkSeams {
  /** Replaces the field cipher the service's resolvers and loaders get (a plaintext stand-in). */
  readonly fieldCipher?: (real: FieldCipher) => FieldCipher;
  /** false: mutations run without the audit wrapper, and their `auditChange` writes nothing. */
  readonly recordAudit?: false;
}

export interface ServiceEncryption {
  readonly kms: KeyManagementService;
  /** Wrapped keys in the service's own `data_keys` table (see `dataKeysMigrationSql`). */
  readonly keyring: Keyring;
  readonly fields: FieldCipher;
}

export interface SubgraphDefinition {
  readonly name: string;
  readonly defaultPort: number;
  readonly migrationsDir: URL;
  readonly defaultDataDir: string;
  /** Mounts `POST /graphql`; every request reaching it already carries a verified context. */
  mountGraphQL(app: FastifyInstance, dependencies: SubgraphDependencies): Promise<void>;
  /** Background jobs, run with system access on a timer while the service is up. */
  readonly jobs?: readonly SystemJob[];
  /**
   * The service writes audit events to an outbox of its own (`auditOutboxMigrationSql`), which a
   * relay ships to the audit subgraph when AUDIT_INGEST_URL is set.
   */
  readonly auditOutbox?: boolean;
  /** Routes that authenticate their caller themselves instead of by a gateway signature. */
  readonly ownAuthenticationPaths?: readonly string[];
}

export interface SubgraphService {
  readonly app: FastifyInstance;
  /** For in-process tests that look at what the service stored (its audit outbox, say). */
  readonly dataAccess: DataAccess;
  close(): Promise<void>;
}

/**
 * Opens the service's database, applies its migrations, and builds its HTTP app: health probes,
 * signed-context check on everything else, then the GraphQL route. The app is returned unstarted so
 * tests can drive it in-process.
 */
export async function createSubgraphService(
  definition: SubgraphDefinition,
  config: SubgraphConfig,
  hooks: DatabaseHooks = {},
  seams: BenchmarkSeams = {},
): Promise<SubgraphService> {
  const stopReporting = configureErrorReporting({
    dsn: config.sentryDsn,
    environment: config.environment,
    service: definition.name,
  });
  const database = await openServiceDatabase(config.database, serviceDatabaseNames(definition.name), hooks);
  let kms: KeyManagementService | undefined;
  try {
    await database.migrate(await loadMigrations(definition.migrationsDir));
    kms = await openKms(config.encryption, config.environment);
    const app = createHttpServer({
      service: definition.name,
      logLevel: config.logLevel,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    const metrics = createServiceMetrics(definition.name);
    // Subgraphs are never exposed, so their metrics are open to the network they run in unless a token is set.
    registerMetrics(app, metrics, { token: config.metricsToken, enabled: true });
    registerHealthRoutes(app, async () => ({
      database: await withTimeout(database.ping(), 2_000, 'database ping').then(
        () => 'ok',
        () => 'unavailable',
      ),
    }));
    requireSignedContext(
      app,
      createContextVerifier({ keys: config.verifyKeys, audience: definition.name, clock: config.clock }),
      definition.ownAuthenticationPaths,
    );
    const dataAccess = createDataAccess(database.db);
    const keyring = createKeyring({
      kms,
      dataAccess,
      schema: definition.name,
      clock: config.clock,
      cacheTtlMs: config.encryption.dekCacheTtlMs,
    });
    const fields = createFieldCipher(keyring);
    const encryption = { kms, keyring, fields: seams.fieldCipher?.(fields) ?? fields };
    await definition.mountGraphQL(app, {
      config,
      dataAccess,
      encryption,
      metrics,
      ...(seams.recordAudit === false ? { benchmarkSeams: { recordAudit: false } } : {}),
    });
    const { url, token, relayIntervalMs } = config.auditIngest;
    const relay =
      definition.auditOutbox === true && url !== null && token !== null
        ? [auditRelayJob(definition.name, httpAuditSender(url, token), relayIntervalMs)]
        : [];
    scheduleSystemJobs(app, [...(definition.jobs ?? []), ...relay], dataAccess);
    await app.ready();
    return {
      app,
      dataAccess,
      async close() {
        await app.close();
        keyring.clearCache();
        await encryption.kms.close();
        await database.close();
        await stopReporting();
      },
    };
  } catch (error) {
    await kms?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    await stopReporting();
    throw error;
  }
}

/** What a subgraph process needs to know before its configuration is read. */
export interface SubgraphIdentity {
  readonly name: string;
  readonly defaultPort: number;
  readonly defaultDataDir: string;
}

/**
 * The whole life of a subgraph process: configuration, start, listen, graceful stop. A subgraph
 * with settings of its own passes a factory that reads them, so their errors are reported like
 * every other start-up failure.
 */
export function runSubgraph(
  subgraph: SubgraphIdentity,
  build: SubgraphDefinition | ((config: SubgraphConfig) => SubgraphDefinition),
  env: Env,
): Promise<void> {
  let shutdownTimeoutMs = 10_000;
  return runService(
    subgraph.name,
    async () => {
      const config = readSubgraphConfig(env, subgraph);
      shutdownTimeoutMs = config.shutdownTimeoutMs;
      const definition = typeof build === 'function' ? build(config) : build;
      const service = await createSubgraphService(definition, config);
      const address = await listen(service.app, config.host, config.port, `${subgraph.name.toUpperCase()}_PORT`);
      service.app.log.info({ address, database: config.database.kind }, `${subgraph.name} subgraph ready`);
      return service;
    },
    () => shutdownTimeoutMs,
  );
}
