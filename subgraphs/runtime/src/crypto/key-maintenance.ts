import type { Clock } from '../clock.ts';
import type { DataAccess } from '../db/data-access.ts';
import type { Keyring, RewrapReport } from './keyring.ts';
import { keyMaintenanceAccess } from './keyring.ts';
import type { FieldCipher } from './field-cipher.ts';
import type { KeyManagementService } from './kms.ts';
import type { SealedColumns } from './sealed-columns.ts';
import { reencryptWorkspace } from './sealed-columns.ts';

/**
 * What one service tells the key commands (`npm run keys`) about the keys and sealed data it owns.
 * Each service declares it beside its tables; the commands walk every service's declaration, so a
 * new sealed table or a new retention rule is picked up by rotation and shredding alike.
 */
export interface ServiceKeyMaintenance {
  readonly service: { readonly name: string; readonly defaultDataDir: string };
  /** The service keeps workspace data keys (a `data_keys` table from `dataKeysMigrationSql`). */
  readonly workspaceKeys: boolean;
  /** Every sealed column of the service: re-encrypted under the new key after a rotation. */
  readonly sealedTables?: readonly SealedColumns<string>[];
  /**
   * Why the workspace's keys may not be destroyed now (records it must keep readable, such as
   * accounting records inside their legal retention period), or undefined when nothing stands in
   * the way.
   */
  shredRefusal?(dataAccess: DataAccess, tenantId: string): Promise<string | undefined>;
  /** Keys the service holds for itself rather than for a workspace (identity's service key). */
  readonly serviceKey?: {
    rewrap(service: OpenKeyService): Promise<RewrapReport>;
    rotate(service: OpenKeyService): Promise<{ readonly version: number }>;
  };
}

/** One service's database, KMS and keyring, opened for a key command. */
export interface OpenKeyService {
  readonly maintenance: ServiceKeyMaintenance;
  readonly dataAccess: DataAccess;
  readonly kms: KeyManagementService;
  readonly keyring: Keyring;
  readonly fields: FieldCipher;
  readonly clock: Clock;
}

/** A key command that must not run, with every reason found; nothing was changed. */
export class KeyCommandRefused extends Error {
  readonly reasons: readonly string[];
  constructor(reasons: readonly string[]) {
    super(reasons.join('; '));
    this.name = 'KeyCommandRefused';
    this.reasons = reasons;
  }
}

/** What a command did, one line per service and step, for the operator and the logs. */
export type KeyCommandReport = readonly string[];

const name = (service: OpenKeyService) => service.maintenance.service.name;

/**
 * After a KMS key rotation (a new primary version of the master key): re-encrypts every wrapped
 * key of every service under the primary version, so the old master key version can be disabled.
 * The data keys themselves do not change, so no sealed value is touched and running services go on.
 */
export async function rewrapAllKeys(services: readonly OpenKeyService[]): Promise<KeyCommandReport> {
  const report: string[] = [];
  for (const service of services) {
    if (service.maintenance.serviceKey !== undefined) {
      const result = await service.maintenance.serviceKey.rewrap(service);
      report.push(`${name(service)}: service key: ${describeRewrap(result)}`);
    }
    if (service.maintenance.workspaceKeys) {
      const tenants = await service.keyring.listTenants(keyMaintenanceAccess());
      const result = await service.keyring.rewrapAll(tenants);
      report.push(`${name(service)}: ${tenants.length} workspaces: ${describeRewrap(result)}`);
    }
  }
  return report;
}

function describeRewrap(result: RewrapReport): string {
  const under = result.kmsKeyVersion === undefined ? '' : ` under ${result.kmsKeyVersion}`;
  return `${result.rewrapped} re-wrapped, ${result.unchanged} already current${under}`;
}

export interface ReencryptSettings {
  /** Rows read and re-sealed per transaction. */
  readonly batchSize: number;
  /** Called after each batch, so a long run shows progress. */
  readonly onBatch?: (service: string, table: string, rows: number) => void;
}

/**
 * Rotates the workspace's field key in every service that keeps workspace keys (a new random
 * version becomes current; the old ones stay readable), then re-encrypts its sealed columns under
 * the new version. Files and append-only records keep naming the version that sealed them, which
 * therefore stays available until the workspace is shredded.
 */
export async function rotateWorkspaceKeys(
  services: readonly OpenKeyService[],
  tenantId: string,
  settings: ReencryptSettings,
): Promise<KeyCommandReport> {
  const report: string[] = [];
  for (const service of services.filter((candidate) => candidate.maintenance.workspaceKeys)) {
    const key = await service.keyring.rotate(tenantId, 'field');
    report.push(`${name(service)}: field key v${key.version} is current`);
  }
  return [...report, ...(await reencryptWorkspaceFields(services, tenantId, settings))];
}

/**
 * Re-seals every sealed value of the workspace that names an older key version under the current
 * one, in batches. Resumable: after a crash (or after services that still held the old version in
 * their key cache wrote with it), running it again finishes the job, since it selects by version.
 */
export async function reencryptWorkspaceFields(
  services: readonly OpenKeyService[],
  tenantId: string,
  settings: ReencryptSettings,
): Promise<KeyCommandReport> {
  const report: string[] = [];
  for (const service of services) {
    const tables = service.maintenance.sealedTables ?? [];
    if (tables.length === 0) continue;
    const { rows } = await reencryptWorkspace({
      dataAccess: service.dataAccess,
      keyring: service.keyring,
      fields: service.fields,
      tenantId,
      batchSize: settings.batchSize,
      tables,
      onBatch: (table, count) => settings.onBatch?.(name(service), table, count),
    });
    report.push(`${name(service)}: ${rows} rows re-encrypted (${tables.map((table) => table.tableName).join(', ')})`);
  }
  return report;
}

/**
 * Crypto-shredding: destroys every version of the workspace's keys in every service, after which
 * whatever they sealed can never be read again. Refused, with nothing destroyed, while any service
 * names a reason to keep the workspace readable.
 */
export async function shredWorkspace(services: readonly OpenKeyService[], tenantId: string): Promise<KeyCommandReport> {
  const reasons: string[] = [];
  for (const service of services) {
    const reason = await service.maintenance.shredRefusal?.(service.dataAccess, tenantId);
    if (reason !== undefined) reasons.push(`${name(service)}: ${reason}`);
  }
  if (reasons.length > 0) throw new KeyCommandRefused(reasons);
  const report: string[] = [];
  for (const service of services.filter((candidate) => candidate.maintenance.workspaceKeys)) {
    const { destroyed } = await service.keyring.shred(tenantId);
    report.push(`${name(service)}: ${destroyed} key versions destroyed`);
  }
  return report;
}

/** Adds a new version of each service's own key (identity's service key); older ones keep opening. */
export async function rotateServiceKeys(services: readonly OpenKeyService[]): Promise<KeyCommandReport> {
  const report: string[] = [];
  for (const service of services) {
    if (service.maintenance.serviceKey === undefined) continue;
    const { version } = await service.maintenance.serviceKey.rotate(service);
    report.push(
      `${name(service)}: service key v${version} is current (running services load it at their next start or first use)`,
    );
  }
  return report;
}
