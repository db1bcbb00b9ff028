import { offsetClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { parseVerifyKeys } from '../context/signed-context.ts';
import type { VerifyKeys } from '../context/signed-context.ts';
import type { DatabaseSettings } from '../db/database.ts';
import type { ConfigReader } from './reader.ts';

export const environments = ['development', 'test', 'production'] as const;
export type RuntimeEnvironment = (typeof environments)[number];
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface CommonConfig {
  readonly environment: RuntimeEnvironment;
  readonly logLevel: LogLevel;
  /** Built from NUMEZIS_CLOCK_OFFSET_MS, which production refuses. */
  readonly clock: Clock;
  /** METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <token>`. */
  readonly metricsToken: string | null;
  /** SENTRY_DSN: where unexpected errors and unauthorized-access bursts are reported, scrubbed of PII. */
  readonly sentryDsn: string | null;
}

export function readCommonConfig(reader: ConfigReader): CommonConfig {
  const environment = reader.oneOf('NODE_ENV', environments, 'development');
  const logLevel = reader.oneOf('LOG_LEVEL', logLevels, 'info');
  const clockOffsetMs = reader.int('NUMEZIS_CLOCK_OFFSET_MS', 0);
  if (environment === 'production' && clockOffsetMs !== 0) {
    reader.problem('NUMEZIS_CLOCK_OFFSET_MS must not be set when NODE_ENV=production');
  }
  const metricsToken = reader.string('METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 24) reader.problem('METRICS_TOKEN must be at least 24 characters');
  const sentryDsn = reader.string('SENTRY_DSN') ?? null;
  if (sentryDsn !== null && !/^https?:\/\/[^@\s]+@[^/\s]+\/\S+$/.test(sentryDsn)) {
    reader.problem('SENTRY_DSN must be a Sentry DSN such as https://<key>@<host>/<project id>');
  }
  return { environment, logLevel, clock: offsetClock(clockOffsetMs), metricsToken, sentryDsn };
}

/** CONTEXT_VERIFY_KEYS: the public keys whose signed contexts this service accepts. */
export function readVerifyKeys(reader: ConfigReader): VerifyKeys {
  const text = reader.required('CONTEXT_VERIFY_KEYS');
  if (text === '') return new Map();
  try {
    return parseVerifyKeys(text);
  } catch (error) {
    reader.problem(`CONTEXT_VERIFY_KEYS: ${(error as Error).message}`);
    return new Map();
  }
}

/**
 * `<PREFIX>_DATABASE_URL` (application role) and `<PREFIX>_MIGRATION_DATABASE_URL` (owner role)
 * point the service at a PostgreSQL server; without them it runs on embedded PGlite in
 * `<PREFIX>_PGLITE_DIR`, which production refuses.
 */
export function readDatabaseSettings(
  reader: ConfigReader,
  prefix: string,
  environment: RuntimeEnvironment,
  defaultDataDir: string,
): DatabaseSettings {
  const appUrl = reader.string(`${prefix}_DATABASE_URL`);
  const migrationUrl = reader.string(`${prefix}_MIGRATION_DATABASE_URL`);
  const poolMax = reader.int(`${prefix}_DATABASE_POOL_MAX`, 10, { min: 1, max: 200 });
  const statementTimeoutMs = reader.int(`${prefix}_STATEMENT_TIMEOUT_MS`, 15_000, { min: 100, max: 600_000 });
  if (appUrl === undefined && migrationUrl === undefined) {
    if (environment === 'production') {
      reader.problem(
        `${prefix}_DATABASE_URL and ${prefix}_MIGRATION_DATABASE_URL are required when NODE_ENV=production`,
      );
    }
    return { kind: 'pglite', dataDir: reader.string(`${prefix}_PGLITE_DIR`, defaultDataDir) ?? defaultDataDir };
  }
  if (appUrl === undefined || migrationUrl === undefined) {
    reader.problem(`${prefix}_DATABASE_URL and ${prefix}_MIGRATION_DATABASE_URL must be set together`);
  }
  for (const [name, url] of [
    [`${prefix}_DATABASE_URL`, appUrl],
    [`${prefix}_MIGRATION_DATABASE_URL`, migrationUrl],
  ] as const) {
    if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) reader.problem(`${name} must be a postgres:// URL`);
  }
  return { kind: 'postgres', appUrl: appUrl ?? '', migrationUrl: migrationUrl ?? '', poolMax, statementTimeoutMs };
}
