import { dirname, join } from 'node:path';
import { readCommonConfig, readDatabaseSettings } from '../config/common.ts';
import type { RuntimeEnvironment } from '../config/common.ts';
import { readEncryptionConfig } from '../config/kms.ts';
import type { EncryptionConfig } from '../config/kms.ts';
import { ConfigError, createConfigReader } from '../config/reader.ts';
import type { Env } from '../config/reader.ts';
import type { Clock } from '../clock.ts';
import { isUuid } from '../context/signed-context.ts';
import { createDataAccess } from '../db/data-access.ts';
import { openServiceDatabase } from '../db/database.ts';
import type { DatabaseSettings, ServiceDatabase } from '../db/database.ts';
import { serviceDatabaseNames } from '../db/roles.ts';
import { describeStartupError } from '../server/run.ts';
import { createFieldCipher } from './field-cipher.ts';
import {
  KeyCommandRefused,
  reencryptWorkspaceFields,
  rewrapAllKeys,
  rotateServiceKeys,
  rotateWorkspaceKeys,
  shredWorkspace,
} from './key-maintenance.ts';
import type { KeyCommandReport, OpenKeyService, ServiceKeyMaintenance } from './key-maintenance.ts';
import { createKeyring } from './keyring.ts';
import type { KeyManagementService } from './kms.ts';
import { openKms } from './open-kms.ts';

export const keyCommandUsage = `usage: npm run keys -- <command>
  rewrap                       re-wrap every stored key under the KMS master key's primary version
  rotate <workspace id>        new field key for the workspace, then re-encrypt its sealed fields
  reencrypt <workspace id>     finish re-encrypting under the current field key (resumable)
  shred <workspace id>         destroy every key of the workspace (refused while records must be kept)
  rotate-service-key           new version of each service's own key (identity's per-user secrets)
Settings: the services' database and KMS variables (README, Configuration); KEYS_BATCH_SIZE (default 500).
With embedded PGlite, stop the services first: a PGlite folder has one process at a time.`;

type KeyCommand =
  | { readonly name: 'rewrap' | 'rotate-service-key' }
  | { readonly name: 'rotate' | 'reencrypt' | 'shred'; readonly tenantId: string };

/** The command line, or the reason it is not one. */
export function parseKeyCommand(args: readonly string[]): KeyCommand | { readonly problem: string } {
  const [name, tenantId, ...rest] = args;
  if (rest.length > 0) return { problem: `unexpected argument "${rest[0]}"` };
  switch (name) {
    case 'rewrap':
    case 'rotate-service-key':
      return tenantId === undefined ? { name } : { problem: `${name} takes no workspace id` };
    case 'rotate':
    case 'reencrypt':
    case 'shred':
      if (tenantId === undefined || !isUuid(tenantId)) return { problem: `${name} needs a workspace id (a UUID)` };
      return { name, tenantId };
    default:
      return { problem: name === undefined ? 'no command given' : `unknown command "${name}"` };
  }
}

interface KeyCommandConfig {
  readonly environment: RuntimeEnvironment;
  readonly clock: Clock;
  readonly encryption: EncryptionConfig;
  readonly batchSize: number;
  readonly databases: readonly DatabaseSettings[];
}

/** The same variables the services read for their databases and KMS, so the commands see what they see. */
function readKeyCommandConfig(env: Env, services: readonly ServiceKeyMaintenance[]): KeyCommandConfig {
  const reader = createConfigReader(env);
  const common = readCommonConfig(reader);
  const first = services[0];
  if (first === undefined) throw new Error('no services to run key commands on');
  return reader.finish({
    environment: common.environment,
    clock: common.clock,
    // One master key for the whole stack, as every service reads it (see config/subgraph.ts).
    encryption: readEncryptionConfig(reader, common.environment, {
      defaultLocalKeyFile: join(dirname(first.service.defaultDataDir), 'local-kms-key.json'),
    }),
    batchSize: reader.int('KEYS_BATCH_SIZE', 500, { min: 1, max: 10_000 }),
    databases: services.map(({ service }) =>
      readDatabaseSettings(reader, service.name.toUpperCase(), common.environment, service.defaultDataDir),
    ),
  });
}

async function openKeyServices(
  config: KeyCommandConfig,
  services: readonly ServiceKeyMaintenance[],
): Promise<{ readonly open: OpenKeyService[]; close(): Promise<void> }> {
  const databases: ServiceDatabase[] = [];
  let kms: KeyManagementService | undefined;
  const close = async () => {
    await kms?.close().catch(() => undefined);
    await Promise.all(databases.map((database) => database.close().catch(() => undefined)));
  };
  try {
    kms = await openKms(config.encryption, config.environment);
    const open: OpenKeyService[] = [];
    for (const [index, maintenance] of services.entries()) {
      const settings = config.databases[index];
      if (settings === undefined) throw new Error(`no database settings for ${maintenance.service.name}`);
      const database = await openServiceDatabase(settings, serviceDatabaseNames(maintenance.service.name));
      databases.push(database);
      const dataAccess = createDataAccess(database.db);
      const keyring = createKeyring({ kms, dataAccess, schema: maintenance.service.name, clock: config.clock });
      open.push({ maintenance, dataAccess, kms, keyring, fields: createFieldCipher(keyring), clock: config.clock });
    }
    return { open, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function runKeyCommand(
  command: KeyCommand,
  services: readonly OpenKeyService[],
  batchSize: number,
  progress: (line: string) => void,
): Promise<KeyCommandReport> {
  const settings = {
    batchSize,
    onBatch: (service: string, table: string, rows: number) => progress(`${service}: ${table}: ${rows} rows`),
  };
  switch (command.name) {
    case 'rewrap':
      return rewrapAllKeys(services);
    case 'rotate-service-key':
      return rotateServiceKeys(services);
    case 'rotate':
      return rotateWorkspaceKeys(services, command.tenantId, settings);
    case 'reencrypt':
      return reencryptWorkspaceFields(services, command.tenantId, settings);
    case 'shred':
      return shredWorkspace(services, command.tenantId);
  }
}

export interface KeyCommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `npm run keys -- <command>`: parses the command and the services' settings, opens each service's
 * database and the KMS, runs the command and reports each step. Returns the exit code: 0 done,
 * 1 refused or failed (nothing half-done that a rerun does not finish), 2 a bad command or setting.
 * Messages name services, workspaces and key versions, never key material or personal data.
 */
export async function keysCli(
  args: readonly string[],
  env: Env,
  services: readonly ServiceKeyMaintenance[],
  output: KeyCommandOutput,
): Promise<number> {
  const command = parseKeyCommand(args);
  if ('problem' in command) {
    output.err(`keys: ${command.problem}\n${keyCommandUsage}`);
    return 2;
  }
  let config: KeyCommandConfig;
  try {
    config = readKeyCommandConfig(env, services);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`keys: ${error.message}`);
    return 2;
  }
  let opened: Awaited<ReturnType<typeof openKeyServices>> | undefined;
  try {
    opened = await openKeyServices(config, services);
    const report = await runKeyCommand(command, opened.open, config.batchSize, (line) => output.out(`  ${line}`));
    for (const line of report) output.out(line);
    output.out(`keys: ${command.name} done`);
    return 0;
  } catch (error) {
    if (error instanceof KeyCommandRefused) {
      output.err(`keys: ${command.name} refused, nothing changed:\n${error.reasons.map((r) => `  ${r}`).join('\n')}`);
    } else {
      output.err(`keys: ${command.name} failed: ${describeStartupError(error)}`);
    }
    return 1;
  } finally {
    await opened?.close();
  }
}
