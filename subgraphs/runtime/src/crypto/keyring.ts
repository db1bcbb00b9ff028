import { createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { and, desc, eq, isNotNull, isNull, lt, max } from 'drizzle-orm';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { isUuid } from '../context/signed-context.ts';
import type { SystemAccess } from '../context/access-mode.ts';
import type { DataAccess } from '../db/data-access.ts';
import type { Tx } from '../db/database.ts';
import { serviceDatabaseNames } from '../db/roles.ts';
import { AES_256_KEY_BYTES } from './aes-gcm.ts';
import { DataKey, DataKeyNotFoundError, KeyringError, wrapAad } from './data-key.ts';
import { dataKeysTable, keyMaintenanceJob, keyPurposes } from './data-keys-table.ts';
import type { DataKeysTable, KeyPurpose } from './data-keys-table.ts';
import type { KeyManagementService, WrappedKey } from './kms.ts';

// The table, its migration and the unwrapped key live in modules of their own; importers keep one entry.
export { DataKey, DataKeyNotFoundError, KeyringError, wrapAad } from './data-key.ts';
export {
  dataKeysMigrationSql,
  dataKeysTable,
  keyMaintenanceAccess,
  keyMaintenanceJob,
  keyPurposes,
} from './data-keys-table.ts';
export type { KeyPurpose } from './data-keys-table.ts';

/**
 * The key hierarchy below the KMS: every workspace has its own random 256-bit data encryption keys
 * (DEKs), one series per purpose (`field` for AES-256-GCM field encryption, `index` for the
 * HMAC-SHA256 blind index, so a lookup key never decrypts anything), each versioned. A DEK is
 * stored only wrapped by the workspace's own KMS key, with the workspace id, purpose and version as
 * AAD, so a wrapped key copied to another workspace's row, purpose or version does not unwrap. Unwrapped keys live
 * only in this process's memory, for a short TTL, inside objects that print no key material.
 */
export interface RewrapReport {
  /** Wrapped keys now re-encrypted under the primary version of the KMS key that wraps them. */
  readonly rewrapped: number;
  /** Wrapped keys that were already under it. */
  readonly unchanged: number;
  /**
   * The KMS key version every key of the pass is now wrapped under, when they share one KMS key
   * (one workspace, or a service key); undefined for several workspaces, or when there were none.
   */
  readonly kmsKeyVersion: string | undefined;
}

export interface Keyring {
  /** The workspace's current key of `purpose`, created (version 1) on first use. */
  currentKey(tenantId: string, purpose?: KeyPurpose): Promise<DataKey>;
  /** An older or current version, to read what it sealed; destroyed versions are gone. */
  keyForVersion(tenantId: string, version: number, purpose?: KeyPurpose): Promise<DataKey>;
  /** A new random version becomes current; the older ones stay readable (marked retired). */
  rotate(tenantId: string, purpose?: KeyPurpose): Promise<DataKey>;
  /** Re-encrypts the workspace's wrapped keys under the current primary version of its KMS key. */
  rewrapTenant(tenantId: string): Promise<RewrapReport>;
  /** `rewrapTenant` for each workspace, one after another. */
  rewrapAll(tenantIds: Iterable<string>): Promise<RewrapReport>;
  /** The workspaces that have (or had) data keys here: what `rewrapAll` and batch rotation walk. */
  listTenants(access: SystemAccess): Promise<string[]>;
  /**
   * Crypto-shredding: destroys every version of every key of the workspace, and the workspace's own
   * KMS key, so whatever they sealed can never be read again, not even from a backup taken before;
   * no new key is ever made for it. Other processes drop their cached copies within one cache TTL.
   */
  shred(tenantId: string): Promise<{ readonly destroyed: number }>;
  /** Forgets every unwrapped key now (e.g. at shutdown). */
  clearCache(): void;
}

/** The workspace's keys were destroyed (crypto-shredding): nothing can be sealed or opened for it. */
export class WorkspaceShreddedError extends KeyringError {
  constructor(tenantId: string) {
    super(`workspace ${tenantId} was crypto-shredded: its data keys are destroyed`);
    this.name = 'WorkspaceShreddedError';
  }
}

export interface KeyringOptions {
  readonly kms: KeyManagementService;
  readonly dataAccess: DataAccess;
  /** The service schema whose `data_keys` table holds the wrapped keys. */
  readonly schema: string;
  readonly clock?: Clock;
  /** How long an unwrapped key stays in memory (default 5 minutes). */
  readonly cacheTtlMs?: number;
}

interface KeyRow {
  readonly purpose: KeyPurpose;
  readonly version: number;
  readonly wrapped: Buffer;
  readonly kmsKeyVersion: string;
}

const rowColumns = (table: DataKeysTable) => ({
  purpose: table.purpose,
  version: table.version,
  wrapped: table.wrapped,
  kmsKeyVersion: table.kmsKeyVersion,
});

export function createKeyring(options: KeyringOptions): Keyring {
  const { kms, dataAccess } = options;
  const clock = options.clock ?? systemClock;
  const ttlMs = options.cacheTtlMs ?? 300_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 1)
    throw new KeyringError('the data key cache TTL must be a positive integer');
  const table = dataKeysTable(serviceDatabaseNames(options.schema).schema);

  const keys = new Map<string, { readonly key: DataKey; readonly expiresAt: number }>();
  const current = new Map<string, { readonly version: number; readonly expiresAt: number }>();
  const loading = new Map<string, Promise<DataKey>>();
  let nextSweep = 0;

  const keyId = (tenantId: string, purpose: KeyPurpose, version: number) => `${tenantId}/${purpose}/${version}`;
  const seriesId = (tenantId: string, purpose: KeyPurpose) => `${tenantId}/${purpose}`;

  const check = (tenantId: string, purpose: KeyPurpose) => {
    if (!isUuid(tenantId)) throw new KeyringError('workspace id must be a UUID');
    if (!keyPurposes.includes(purpose)) throw new KeyringError('unknown data key purpose');
  };

  // Expired keys are dropped even when nobody asks for them again, so a key used once does not
  // linger for the life of the process.
  const sweep = (now: number) => {
    if (now < nextSweep) return;
    nextSweep = now + Math.min(ttlMs, 10_000);
    for (const [id, entry] of keys) if (entry.expiresAt <= now) keys.delete(id);
    for (const [id, entry] of current) if (entry.expiresAt <= now) current.delete(id);
  };

  const cached = (tenantId: string, purpose: KeyPurpose, version: number, now: number) => {
    const entry = keys.get(keyId(tenantId, purpose, version));
    return entry !== undefined && entry.expiresAt > now ? entry.key : undefined;
  };

  // A key's TTL runs from its unwrapping; the current-version pointer has its own, so a rotation by
  // another process is seen within one TTL without unwrapping the still-cached key again.
  const remember = (key: DataKey, isCurrent: boolean) => {
    const expiresAt = clock.now() + ttlMs;
    keys.set(keyId(key.tenantId, key.purpose, key.version), { key, expiresAt });
    if (isCurrent) current.set(seriesId(key.tenantId, key.purpose), { version: key.version, expiresAt });
    return key;
  };
  const pointTo = (key: DataKey) => {
    current.set(seriesId(key.tenantId, key.purpose), { version: key.version, expiresAt: clock.now() + ttlMs });
    return key;
  };

  // Concurrent requests for one key share a single database read and KMS call.
  const once = (id: string, load: () => Promise<DataKey>): Promise<DataKey> => {
    const pending = loading.get(id);
    if (pending !== undefined) return pending;
    const promise = load().finally(() => loading.delete(id));
    loading.set(id, promise);
    return promise;
  };

  const importKey = (tenantId: string, purpose: KeyPurpose, version: number, material: Buffer) => {
    try {
      if (material.length !== AES_256_KEY_BYTES) throw new KeyringError('unwrapped data key has the wrong length');
      return new DataKey(tenantId, purpose, version, createSecretKey(material));
    } finally {
      material.fill(0);
    }
  };

  const unwrap = async (tenantId: string, row: KeyRow): Promise<DataKey> => {
    let material: Buffer;
    try {
      material = await kms.workspaceKey(tenantId).decrypt(row.wrapped, wrapAad(tenantId, row.purpose, row.version));
    } catch (error) {
      throw new KeyringError(`data key ${row.purpose} v${row.version} of workspace ${tenantId} cannot be unwrapped`, {
        cause: error,
      });
    }
    return importKey(tenantId, row.purpose, row.version, material);
  };

  const currentRow = (tx: Tx, tenantId: string, purpose: KeyPurpose) =>
    tx
      .select(rowColumns(table))
      .from(table)
      .where(
        and(
          eq(table.tenantId, tenantId),
          eq(table.purpose, purpose),
          isNull(table.retiredAt),
          isNull(table.destroyedAt),
        ),
      )
      .orderBy(desc(table.version))
      .limit(1)
      .then((rows) => rows[0]);

  /**
   * Makes and wraps a new key, then stores it as `version` (and retires the older ones when
   * `retire`). Wrapping happens before the transaction, so no connection waits on the KMS, and a
   * KMS failure leaves nothing behind. Undefined when another process stored that version first.
   */
  const createVersion = async (
    tenantId: string,
    purpose: KeyPurpose,
    version: number,
    retire: boolean,
  ): Promise<DataKey | undefined> => {
    const material = randomBytes(AES_256_KEY_BYTES);
    let key: KeyObject;
    let wrapped: WrappedKey;
    try {
      key = createSecretKey(material);
      wrapped = await kms.workspaceKey(tenantId).encrypt(material, wrapAad(tenantId, purpose, version));
    } finally {
      material.fill(0);
    }
    const now = new Date(clock.now());
    const stored = await dataAccess.inTenant(tenantId, async (tx) => {
      const inserted = await tx
        .insert(table)
        .values({
          tenantId,
          purpose,
          version,
          wrapped: wrapped.ciphertext,
          kmsKeyVersion: wrapped.keyVersion,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ version: table.version });
      if (inserted.length === 0) return false;
      if (retire) {
        await tx
          .update(table)
          .set({ retiredAt: now })
          .where(
            and(
              eq(table.tenantId, tenantId),
              eq(table.purpose, purpose),
              lt(table.version, version),
              isNull(table.retiredAt),
            ),
          );
      }
      return true;
    });
    return stored ? new DataKey(tenantId, purpose, version, key) : undefined;
  };

  const isShredded = (tenantId: string) =>
    dataAccess.inTenant(tenantId, (tx) =>
      tx
        .select({ version: table.version })
        .from(table)
        .where(and(eq(table.tenantId, tenantId), isNotNull(table.destroyedAt)))
        .limit(1)
        .then((rows) => rows.length > 0),
    );

  const forget = (tenantId: string) => {
    for (const id of keys.keys()) if (id.startsWith(`${tenantId}/`)) keys.delete(id);
    for (const id of current.keys()) if (id.startsWith(`${tenantId}/`)) current.delete(id);
  };

  const rewrapTenantWith = async (tenantId: string, state: { primary: string | undefined }) => {
    if (!isUuid(tenantId)) throw new KeyringError('workspace id must be a UUID');
    const rows = await dataAccess.inTenant(tenantId, (tx) =>
      tx
        .select(rowColumns(table))
        .from(table)
        .where(and(eq(table.tenantId, tenantId), isNull(table.destroyedAt)))
        .orderBy(table.purpose, table.version),
    );
    let rewrapped = 0;
    let unchanged = 0;
    for (const row of rows) {
      // The KMS reveals its primary version only by wrapping; until one wrap told us, re-wrap.
      if (state.primary !== undefined && row.kmsKeyVersion === state.primary) {
        unchanged++;
        continue;
      }
      const aad = wrapAad(tenantId, row.purpose, row.version);
      let material: Buffer | undefined;
      let wrapped: WrappedKey;
      try {
        material = await kms.workspaceKey(tenantId).decrypt(row.wrapped, aad);
        wrapped = await kms.workspaceKey(tenantId).encrypt(material, aad);
      } catch (error) {
        throw new KeyringError(
          `data key ${row.purpose} v${row.version} of workspace ${tenantId} cannot be re-wrapped`,
          {
            cause: error,
          },
        );
      } finally {
        material?.fill(0);
      }
      state.primary = wrapped.keyVersion;
      if (wrapped.keyVersion === row.kmsKeyVersion) {
        unchanged++;
        continue;
      }
      await dataAccess.inTenant(tenantId, (tx) =>
        tx
          .update(table)
          .set({ wrapped: wrapped.ciphertext, kmsKeyVersion: wrapped.keyVersion })
          .where(
            and(
              eq(table.tenantId, tenantId),
              eq(table.purpose, row.purpose),
              eq(table.version, row.version),
              eq(table.kmsKeyVersion, row.kmsKeyVersion),
            ),
          ),
      );
      rewrapped++;
    }
    return { rewrapped, unchanged };
  };

  return {
    async currentKey(tenantId, purpose = 'field') {
      check(tenantId, purpose);
      const now = clock.now();
      sweep(now);
      const pointer = current.get(seriesId(tenantId, purpose));
      if (pointer !== undefined && pointer.expiresAt > now) {
        const key = cached(tenantId, purpose, pointer.version, now);
        if (key !== undefined) return key;
      }
      return once(`current:${seriesId(tenantId, purpose)}`, async () => {
        const row = await dataAccess.inTenant(tenantId, (tx) => currentRow(tx, tenantId, purpose));
        if (row !== undefined) {
          const known = cached(tenantId, purpose, row.version, clock.now());
          return known === undefined ? remember(await unwrap(tenantId, row), true) : pointTo(known);
        }
        if (await isShredded(tenantId)) throw new WorkspaceShreddedError(tenantId);
        const created = await createVersion(tenantId, purpose, 1, false);
        if (created !== undefined) return remember(created, true);
        // Another process created the first key meanwhile: use theirs.
        const theirs = await dataAccess.inTenant(tenantId, (tx) => currentRow(tx, tenantId, purpose));
        if (theirs === undefined) throw new KeyringError(`workspace ${tenantId} has no current ${purpose} key`);
        return remember(await unwrap(tenantId, theirs), true);
      });
    },

    async keyForVersion(tenantId, version, purpose = 'field') {
      check(tenantId, purpose);
      if (!Number.isInteger(version) || version < 1) throw new KeyringError('data key version must be positive');
      const now = clock.now();
      sweep(now);
      const key = cached(tenantId, purpose, version, now);
      if (key !== undefined) return key;
      return once(`version:${keyId(tenantId, purpose, version)}`, async () => {
        const row = await dataAccess.inTenant(tenantId, (tx) =>
          tx
            .select(rowColumns(table))
            .from(table)
            .where(
              and(
                eq(table.tenantId, tenantId),
                eq(table.purpose, purpose),
                eq(table.version, version),
                isNull(table.destroyedAt),
              ),
            )
            .then((rows) => rows[0]),
        );
        if (row === undefined) throw new DataKeyNotFoundError(tenantId, purpose, version);
        return remember(await unwrap(tenantId, row), false);
      });
    },

    async rotate(tenantId, purpose = 'field') {
      check(tenantId, purpose);
      if (await isShredded(tenantId)) throw new WorkspaceShreddedError(tenantId);
      const latest = await dataAccess.inTenant(tenantId, (tx) =>
        tx
          .select({ version: max(table.version) })
          .from(table)
          .where(and(eq(table.tenantId, tenantId), eq(table.purpose, purpose)))
          .then((rows) => rows[0]?.version ?? 0),
      );
      const created = await createVersion(tenantId, purpose, latest + 1, true);
      if (created === undefined) {
        throw new KeyringError(`another rotation of workspace ${tenantId}'s ${purpose} key ran at the same time`);
      }
      return remember(created, true);
    },

    async rewrapTenant(tenantId) {
      const state = { primary: undefined as string | undefined };
      const counts = await rewrapTenantWith(tenantId, state);
      return { ...counts, kmsKeyVersion: state.primary };
    },

    async rewrapAll(tenantIds) {
      let rewrapped = 0;
      let unchanged = 0;
      for (const tenantId of tenantIds) {
        // Each workspace has a KMS key of its own, with its own primary version.
        const counts = await rewrapTenantWith(tenantId, { primary: undefined });
        rewrapped += counts.rewrapped;
        unchanged += counts.unchanged;
      }
      return { rewrapped, unchanged, kmsKeyVersion: undefined };
    },

    async listTenants(access) {
      if (access.kind !== 'system' || access.job !== keyMaintenanceJob) {
        throw new KeyringError(`listing workspaces needs the ${keyMaintenanceJob} system access`);
      }
      const rows = await dataAccess.unsafeAsSystem(access, (tx) =>
        tx.selectDistinct({ tenantId: table.tenantId }).from(table).orderBy(table.tenantId),
      );
      return rows.map((row) => row.tenantId);
    },

    async shred(tenantId) {
      check(tenantId, 'field');
      const now = new Date(clock.now());
      const destroyed = await dataAccess.inTenant(tenantId, async (tx) => {
        const rows = await tx
          .update(table)
          // The wrapped bytes go too: the row stays only as a record that the key existed and when it died.
          .set({ destroyedAt: now, wrapped: Buffer.alloc(0) })
          .where(and(eq(table.tenantId, tenantId), isNull(table.destroyedAt)))
          .returning({ version: table.version });
        // A workspace without keys here gets destroyed placeholders, so none is ever made for it later.
        await tx
          .insert(table)
          .values(
            keyPurposes.map((purpose) => ({
              tenantId,
              purpose,
              version: 1,
              wrapped: Buffer.alloc(0),
              kmsKeyVersion: 'destroyed',
              createdAt: now,
              destroyedAt: now,
            })),
          )
          .onConflictDoNothing();
        return rows;
      });
      forget(tenantId);
      // Last, so a failure here leaves the rows marked and a second run finishes; the rows alone
      // would not do, since a backup from before still holds the wrapped keys.
      await kms.destroyWorkspaceKey(tenantId);
      return { destroyed: destroyed.length };
    },

    clearCache() {
      keys.clear();
      current.clear();
    },
  };
}
