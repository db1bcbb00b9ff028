import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, lt, max } from 'drizzle-orm';
import { canonicalAad, systemClock } from '@numezis/runtime';
import type { Clock, DataAccess, KeyManagementService, WrappedKey } from '@numezis/runtime';
import { serviceKeys } from '../tables.ts';
import { createSecretBox, sealedKeyId } from './secret-box.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * The identity service key seals per-user secrets (TOTP secrets, passkey public keys). They are
 * a person's, not a workspace's, so they are not under a workspace data key: the service makes its
 * own random 256-bit key and keeps it in `identity.service_keys` only wrapped by the KMS that wraps
 * the workspace keys, with the service and version as AAD. At start every version is unwrapped
 * into memory (as KeyObjects inside secret boxes, which print nothing); the newest seals, older ones
 * only open what they sealed. No setting holds key material.
 */
export interface ServiceKeyDependencies {
  readonly dataAccess: DataAccess;
  readonly kms: KeyManagementService;
  readonly clock?: Clock;
}

/** Seals with the newest service key version; opens values sealed under any version. */
export interface ServiceSecretBox {
  /** `aad` names what the value belongs to (e.g. `identity.users.totp_secret:<userId>`). */
  seal(plaintext: Buffer, aad: string): string;
  /**
   * A value sealed under a version this process does not hold yet (another replica loaded a newer
   * one after a rotation) makes it load the new versions first.
   */
  open(sealed: string, aad: string): Promise<Buffer>;
  /** The version that seals now. */
  readonly currentVersion: number;
}

export interface ServiceKeyRewrapReport {
  /** Versions now re-encrypted under the KMS's primary version. */
  readonly rewrapped: number;
  /** Versions that were already under it. */
  readonly unchanged: number;
  /** The KMS version every service key is now wrapped under (undefined when there were none). */
  readonly kmsKeyVersion: string | undefined;
}

/** A problem with the service keys. Messages name the version, never key material. */
export class ServiceKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceKeyError';
  }
}

const KEY_BYTES = 32;
const OPEN_FAILED = 'sealed value cannot be opened';

/** The AAD a service key version is wrapped under, so a wrapped key moved to another version or service does not unwrap. */
export function serviceKeyAad(version: number): Buffer {
  return canonicalAad(['numezis.service-key', 'v1', 'identity', String(version)]);
}

/** The secret box key id of a version: `s1`, `s2`, ... */
export const serviceKeyId = (version: number): string => `s${version}`;
const versionOfKeyId = (id: string | undefined): number | undefined => {
  const match = id === undefined ? null : /^s([1-9][0-9]{0,8})$/.exec(id);
  return match === null ? undefined : Number(match[1]);
};

interface KeyRow {
  readonly version: number;
  readonly wrapped: Buffer;
  readonly kmsKeyVersion: string;
}

// The table holds no tenant data and is read before any request exists: see unsafe-call-sites.ts.
const readRows = (dataAccess: DataAccess): Promise<KeyRow[]> =>
  dataAccess.unsafeUnscoped((tx) =>
    tx
      .select({ version: serviceKeys.version, wrapped: serviceKeys.wrapped, kmsKeyVersion: serviceKeys.kmsKeyVersion })
      .from(serviceKeys)
      .orderBy(asc(serviceKeys.version)),
  );

/** A fresh random key, wrapped for `version`; the plaintext is zeroed before this returns. */
async function wrapNewKey(kms: KeyManagementService, version: number): Promise<WrappedKey> {
  const material = randomBytes(KEY_BYTES);
  try {
    return await kms.encrypt(material, serviceKeyAad(version));
  } catch (error) {
    throw new ServiceKeyError(`service key v${version} cannot be wrapped`, { cause: error });
  } finally {
    material.fill(0);
  }
}

/**
 * Stores a newly wrapped version (retiring the older ones when `retire`); false when another
 * process stored that version first.
 */
async function insertVersion(
  dataAccess: DataAccess,
  version: number,
  wrapped: WrappedKey,
  now: Date,
  retire: boolean,
): Promise<boolean> {
  return dataAccess.unsafeUnscoped(async (tx) => {
    const inserted = await tx
      .insert(serviceKeys)
      .values({ version, wrapped: wrapped.ciphertext, kmsKeyVersion: wrapped.keyVersion, createdAt: now })
      .onConflictDoNothing()
      .returning({ version: serviceKeys.version });
    if (inserted.length === 0) return false;
    if (retire) {
      await tx
        .update(serviceKeys)
        .set({ retiredAt: now })
        .where(and(lt(serviceKeys.version, version), isNull(serviceKeys.retiredAt)));
    }
    return true;
  });
}

async function unwrapBox(kms: KeyManagementService, row: KeyRow): Promise<SecretBox> {
  let material: Buffer | undefined;
  try {
    material = await kms.decrypt(row.wrapped, serviceKeyAad(row.version));
    if (material.length !== KEY_BYTES) throw new Error('unwrapped key has the wrong length');
    // The box keeps its own KeyObject copy; the bytes here are zeroed right after.
    return createSecretBox(material, serviceKeyId(row.version));
  } catch (error) {
    throw new ServiceKeyError(`service key v${row.version} cannot be unwrapped`, { cause: error });
  } finally {
    material?.fill(0);
  }
}

/**
 * Loads every service key version, unwrapped, for the life of the process. On an empty table it
 * creates version 1 first; replicas starting together each try, the database keeps the first, and
 * all of them then read and use that one.
 */
export async function loadServiceSecretBox(dependencies: ServiceKeyDependencies): Promise<ServiceSecretBox> {
  const { dataAccess, kms } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const boxes = new Map<number, SecretBox>();
  let current = 0;

  const refresh = async () => {
    const rows = await readRows(dataAccess);
    for (const row of rows) if (!boxes.has(row.version)) boxes.set(row.version, await unwrapBox(kms, row));
    current = Math.max(current, ...rows.map((row) => row.version));
  };
  // Concurrent opens that all need a newer version share one reload.
  let refreshing: Promise<void> | undefined;
  const refreshOnce = () =>
    (refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    }));

  await refresh();
  if (current === 0) {
    await insertVersion(dataAccess, 1, await wrapNewKey(kms, 1), new Date(clock.now()), false);
    await refresh();
    if (current === 0) throw new ServiceKeyError('no service key could be created');
  }

  const currentBox = () => {
    const box = boxes.get(current);
    if (box === undefined) throw new ServiceKeyError('the current service key is not loaded');
    return box;
  };
  return {
    seal: (plaintext, aad) => currentBox().seal(plaintext, aad),
    async open(sealed, aad) {
      const version = versionOfKeyId(sealedKeyId(sealed));
      if (version === undefined) throw new Error(OPEN_FAILED);
      if (!boxes.has(version) && version > current) await refreshOnce();
      const box = boxes.get(version);
      if (box === undefined) throw new Error(OPEN_FAILED);
      return box.open(sealed, aad);
    },
    get currentVersion() {
      return current;
    },
  };
}

/**
 * Rotation: adds a new random version, which seals from now on; the older versions are marked
 * retired and keep opening what they sealed. Services pick it up at their next start, or as soon as
 * they meet a value sealed under it. Fails if another rotation stored the same version first.
 */
export async function rotateServiceKey(
  dependencies: ServiceKeyDependencies,
): Promise<{ readonly version: number; readonly kmsKeyVersion: string }> {
  const { dataAccess, kms } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const latest = await dataAccess.unsafeUnscoped((tx) =>
    tx
      .select({ version: max(serviceKeys.version) })
      .from(serviceKeys)
      .then((rows) => rows[0]?.version ?? 0),
  );
  const version = latest + 1;
  const wrapped = await wrapNewKey(kms, version);
  if (!(await insertVersion(dataAccess, version, wrapped, new Date(clock.now()), true))) {
    throw new ServiceKeyError(`another rotation stored service key v${version} at the same time`);
  }
  return { version, kmsKeyVersion: wrapped.keyVersion };
}

/**
 * Re-encrypts every stored service key version under the KMS's current primary version (after a
 * KMS key rotation, before the old KMS version is destroyed). The keys themselves do not change, so
 * nothing sealed needs touching and running services are unaffected.
 */
export async function rewrapServiceKeys(dependencies: ServiceKeyDependencies): Promise<ServiceKeyRewrapReport> {
  const { dataAccess, kms } = dependencies;
  let primary: string | undefined;
  let rewrapped = 0;
  let unchanged = 0;
  for (const row of await readRows(dataAccess)) {
    // The KMS reveals its primary version only by wrapping; until one wrap told us, re-wrap.
    if (primary !== undefined && row.kmsKeyVersion === primary) {
      unchanged++;
      continue;
    }
    const aad = serviceKeyAad(row.version);
    let material: Buffer | undefined;
    let wrapped: WrappedKey;
    try {
      material = await kms.decrypt(row.wrapped, aad);
      wrapped = await kms.encrypt(material, aad);
    } catch (error) {
      throw new ServiceKeyError(`service key v${row.version} cannot be re-wrapped`, { cause: error });
    } finally {
      material?.fill(0);
    }
    primary = wrapped.keyVersion;
    if (wrapped.keyVersion === row.kmsKeyVersion) {
      unchanged++;
      continue;
    }
    // Only over the row as read: a concurrent re-wrap already did this one.
    const updated = await dataAccess.unsafeUnscoped((tx) =>
      tx
        .update(serviceKeys)
        .set({ wrapped: wrapped.ciphertext, kmsKeyVersion: wrapped.keyVersion })
        .where(and(eq(serviceKeys.version, row.version), eq(serviceKeys.kmsKeyVersion, row.kmsKeyVersion)))
        .returning({ version: serviceKeys.version }),
    );
    if (updated.length > 0) rewrapped++;
    else unchanged++;
  }
  return { rewrapped, unchanged, kmsKeyVersion: primary };
}
