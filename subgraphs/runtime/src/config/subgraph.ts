import type { VerifyKeys } from '../context/signed-context.ts';
import type { DatabaseSettings } from '../db/database.ts';
import { dirname, join } from 'node:path';
import { readEncryptionConfig } from './kms.ts';
import type { EncryptionConfig } from './kms.ts';
import { readAuditIngestSettings } from './audit-ingest.ts';
import type { AuditIngestSettings } from './audit-ingest.ts';
import { readCommonConfig, readDatabaseSettings, readVerifyKeys } from './common.ts';
import type { CommonConfig } from './common.ts';
import { createConfigReader } from './reader.ts';
import type { Env } from './reader.ts';

export interface SubgraphConfig extends CommonConfig {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseSettings;
  readonly verifyKeys: VerifyKeys;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** The KMS that wraps the service's data keys, and how long unwrapped keys stay in memory. */
  readonly encryption: EncryptionConfig;
  readonly auditIngest: AuditIngestSettings;
}

/**
 * Settings every subgraph shares, prefixed with its name (IDENTITY_PORT, ...). Subgraphs are never
 * exposed, so they listen on loopback unless told otherwise.
 */
export function readSubgraphConfig(
  env: Env,
  service: { name: string; defaultPort: number; defaultDataDir: string },
): SubgraphConfig {
  const reader = createConfigReader(env);
  const prefix = service.name.toUpperCase();
  const common = readCommonConfig(reader);
  return reader.finish({
    ...common,
    service: service.name,
    host: reader.string(`${prefix}_HOST`, '127.0.0.1') ?? '127.0.0.1',
    port: reader.port(`${prefix}_PORT`, service.defaultPort),
    database: readDatabaseSettings(reader, prefix, common.environment, service.defaultDataDir),
    verifyKeys: readVerifyKeys(reader),
    requestTimeoutMs: reader.int(`${prefix}_REQUEST_TIMEOUT_MS`, 30_000, { min: 1_000, max: 300_000 }),
    shutdownTimeoutMs: reader.int('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 120_000 }),
    // One local master key beside the services' data folders, so every service of a development
    // stack wraps under the same key, as they would under one Cloud KMS key.
    encryption: readEncryptionConfig(reader, common.environment, {
      defaultLocalKeyFile: join(dirname(service.defaultDataDir), 'local-kms-key.json'),
    }),
    auditIngest: readAuditIngestSettings(reader, common.environment, service.name),
  });
}
