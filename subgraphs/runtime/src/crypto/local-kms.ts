import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RuntimeEnvironment } from '../config/common.ts';
import { isUuid } from '../context/signed-context.ts';
import { AES_256_KEY_BYTES, GCM_IV_BYTES, GCM_TAG_BYTES, openAesGcm, randomIv, sealAesGcm } from './aes-gcm.ts';
import { KmsError } from './kms.ts';
import type { KeyManagementService, KeyWrapper, WrappedKey } from './kms.ts';
import { decodeBase64urlKey, Secret } from './secret.ts';

/**
 * The embedded KMS for `npm start` and tests: master keys held on this machine, in a key file
 * created on first start (mode 0600) or given as a setting. Anyone who can read that file can
 * unwrap every data key, which is exactly what production must not allow, so it refuses to run
 * there.
 *
 * Like Cloud KMS it has versions: new wraps use the primary, and a ciphertext names the version
 * that made it, so old versions keep decrypting after a rotation until they are destroyed. Each
 * workspace gets a key of its own, in its own file in `local-kms-workspaces/` beside the key file,
 * made on first use; crypto-shredding replaces that file by a tombstone. With a master key given
 * as a setting instead of a file, workspace keys live in this process's memory only: that suits a
 * test that runs one process, never a stack.
 */
export interface LocalKms extends KeyManagementService {
  readonly provider: 'local';
  /** The version name new wraps get, `local/cryptoKeyVersions/<n>`. */
  readonly primaryVersion: string;
}

export interface LocalKmsOptions {
  readonly environment: RuntimeEnvironment;
  /** Read, or created on first start. Ignored when `masterKey` is given. */
  readonly keyFile?: string;
  /** A single master key (version 1), from the KMS_LOCAL_MASTER_KEY setting: one process only. */
  readonly masterKey?: Secret;
}

export const LOCAL_KEY_NAME = 'local';
const KEY_FILE_FORMAT = 'numezis-local-kms-v1';
// What a workspace's key file holds once the workspace was crypto-shredded.
const DESTROYED_FORMAT = 'numezis-local-kms-v1-destroyed';
const CIPHERTEXT_FORMAT = 0x01;
const HEADER_BYTES = 5;

interface KeyFileContent {
  readonly format: typeof KEY_FILE_FORMAT;
  readonly primary: number;
  readonly keys: readonly { readonly version: number; readonly key: string }[];
}

interface MasterKeys {
  readonly primary: number;
  readonly keys: ReadonlyMap<number, Secret>;
}

const versionName = (keyName: string, version: number) => `${keyName}/cryptoKeyVersions/${version}`;
const workspaceKeyName = (tenantId: string) => `${LOCAL_KEY_NAME}/workspaces/${tenantId}`;

/** The file that holds a workspace's own key, beside the master key file. */
export function localWorkspaceKeyFile(keyFile: string, tenantId: string): string {
  // The id becomes a file name: only a UUID may.
  if (!isUuid(tenantId)) throw new KmsError('local KMS: a workspace key needs a workspace UUID');
  return join(dirname(keyFile), 'local-kms-workspaces', `${tenantId}.json`);
}

export async function openLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  if (options.environment === 'production') {
    throw new KmsError('the local KMS provider is refused when NODE_ENV=production; set KMS_PROVIDER=gcp');
  }
  if (options.masterKey !== undefined) {
    if (options.masterKey.length !== AES_256_KEY_BYTES) throw new KmsError('local KMS master key must be 32 bytes');
    return localKms({ primary: 1, keys: new Map([[1, options.masterKey]]) }, memoryWorkspaceKeys());
  }
  if (options.keyFile !== undefined) {
    return localKms(await readOrCreateKeyFile(options.keyFile), fileWorkspaceKeys(options.keyFile));
  }
  throw new KmsError('the local KMS needs a key file or a master key');
}

/** Where a local KMS keeps the workspaces' own keys. */
interface WorkspaceKeyStore {
  /** The workspace's key, made when `create` and there is none yet. */
  load(tenantId: string, create: boolean): Promise<MasterKeys>;
  destroy(tenantId: string): Promise<void>;
}

// Read on every call rather than cached, so a rotation or a shredding by another process counts at
// once; the data key cache above keeps these calls rare.
function fileWorkspaceKeys(keyFile: string): WorkspaceKeyStore {
  return {
    load: (tenantId, create) => {
      const path = localWorkspaceKeyFile(keyFile, tenantId);
      return create ? readOrCreateKeyFile(path) : readKeyFile(path);
    },
    async destroy(tenantId) {
      const path = localWorkspaceKeyFile(keyFile, tenantId);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await replaceFile(path, `${JSON.stringify({ format: DESTROYED_FORMAT })}\n`);
    },
  };
}

function memoryWorkspaceKeys(): WorkspaceKeyStore {
  const keys = new Map<string, MasterKeys | 'destroyed'>();
  return {
    async load(tenantId, create) {
      let found = keys.get(tenantId);
      if (found === undefined && create) {
        found = { primary: 1, keys: new Map([[1, new Secret(randomBytes(AES_256_KEY_BYTES))]]) };
        keys.set(tenantId, found);
      }
      if (found === undefined) throw new KmsError(`local KMS: workspace ${tenantId} has no key`);
      if (found === 'destroyed') throw new KmsError(`local KMS: the key of workspace ${tenantId} was destroyed`);
      return found;
    },
    async destroy(tenantId) {
      keys.set(tenantId, 'destroyed');
    },
  };
}

const header = (version: number) => {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeUInt8(CIPHERTEXT_FORMAT, 0);
  bytes.writeUInt32BE(version, 1);
  return bytes;
};

const withKey = <T>(secret: Secret, work: (key: Buffer) => T): T => {
  const key = secret.reveal();
  try {
    return work(key);
  } finally {
    key.fill(0);
  }
};

/** Wraps under one versioned key; `keys` is asked for its versions on every call. */
function keyWrapper(keyName: string, keys: (forEncrypt: boolean) => Promise<MasterKeys>): KeyWrapper {
  return {
    keyName,
    async encrypt(plaintext, aad): Promise<WrappedKey> {
      const master = await keys(true);
      const primaryKey = master.keys.get(master.primary);
      if (primaryKey === undefined) throw new KmsError(`local KMS key ${keyName} has no primary version`);
      const prefix = header(master.primary);
      const iv = randomIv();
      // The header is authenticated too, so a ciphertext cannot be relabelled as another version.
      const { ciphertext, tag } = withKey(primaryKey, (key) =>
        sealAesGcm(key, iv, plaintext, Buffer.concat([prefix, aad])),
      );
      return {
        ciphertext: Buffer.concat([prefix, iv, ciphertext, tag]),
        keyVersion: versionName(keyName, master.primary),
      };
    },
    async decrypt(wrapped, aad): Promise<Buffer> {
      const bytes = Buffer.from(wrapped);
      if (bytes.length < HEADER_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES || bytes.readUInt8(0) !== CIPHERTEXT_FORMAT) {
        throw new KmsError('local KMS decrypt failed: not a local KMS ciphertext');
      }
      const version = bytes.readUInt32BE(1);
      const secret = (await keys(false)).keys.get(version);
      if (secret === undefined) throw new KmsError(`local KMS decrypt failed: version ${version} is not available`);
      const iv = bytes.subarray(HEADER_BYTES, HEADER_BYTES + GCM_IV_BYTES);
      const body = bytes.subarray(HEADER_BYTES + GCM_IV_BYTES, bytes.length - GCM_TAG_BYTES);
      const tag = bytes.subarray(bytes.length - GCM_TAG_BYTES);
      try {
        return withKey(secret, (key) =>
          openAesGcm(key, iv, body, tag, Buffer.concat([bytes.subarray(0, HEADER_BYTES), aad])),
        );
      } catch (error) {
        throw new KmsError('local KMS decrypt failed: the ciphertext or its AAD does not match', { cause: error });
      }
    },
  };
}

function localKms(master: MasterKeys, workspaces: WorkspaceKeyStore): LocalKms {
  if (!master.keys.has(master.primary)) {
    throw new KmsError('local KMS key file names a primary version it does not hold');
  }
  const service = keyWrapper(LOCAL_KEY_NAME, async () => master);
  return {
    provider: 'local',
    primaryVersion: versionName(LOCAL_KEY_NAME, master.primary),
    ...service,
    workspaceKey: (tenantId) => {
      if (!isUuid(tenantId)) throw new KmsError('local KMS: a workspace key needs a workspace UUID');
      return keyWrapper(workspaceKeyName(tenantId), (create) => workspaces.load(tenantId, create));
    },
    destroyWorkspaceKey: (tenantId) => workspaces.destroy(tenantId),
    async close() {},
  };
}

/**
 * Creates the key file with one random version, or reads the one there. The file is written whole
 * under a temporary name and then hard-linked into place, which fails if the name exists: services
 * starting together end up sharing one file, and none of them ever reads a half-written one.
 */
async function readOrCreateKeyFile(path: string): Promise<MasterKeys> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(
    temporary,
    serialise({ primary: 1, keys: new Map([[1, new Secret(randomBytes(AES_256_KEY_BYTES))]]) }),
    {
      flag: 'wx',
      mode: 0o600,
    },
  );
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return readKeyFile(path);
}

async function readKeyFile(path: string): Promise<MasterKeys> {
  const info = await stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KmsError(`local KMS key file ${path} does not exist`);
    throw error;
  });
  if ((info.mode & 0o077) !== 0) {
    throw new KmsError(`local KMS key file ${path} must be readable by its owner only (chmod 600)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new KmsError(`local KMS key file ${path} is not valid JSON`);
  }
  if ((parsed as { format?: unknown } | null)?.format === DESTROYED_FORMAT) {
    throw new KmsError(`local KMS key ${path} was destroyed`);
  }
  const master = parseKeyFile(parsed);
  if (master === undefined) throw new KmsError(`local KMS key file ${path} is not a ${KEY_FILE_FORMAT} key file`);
  return master;
}

function parseKeyFile(value: unknown): MasterKeys | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { format, primary, keys } = value as Partial<Record<keyof KeyFileContent, unknown>>;
  if (format !== KEY_FILE_FORMAT || typeof primary !== 'number' || !Array.isArray(keys)) return undefined;
  const map = new Map<number, Secret>();
  for (const entry of keys as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { version, key } = entry as { version?: unknown; key?: unknown };
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || typeof key !== 'string') {
      return undefined;
    }
    const bytes = decodeBase64urlKey(key, AES_256_KEY_BYTES);
    if (bytes === undefined || map.has(version)) return undefined;
    map.set(version, new Secret(bytes));
    bytes.fill(0);
  }
  return map.has(primary) ? { primary, keys: map } : undefined;
}

function serialise(master: MasterKeys): string {
  const keys = [...master.keys].map(([version, secret]) => {
    const bytes = secret.reveal();
    const key = bytes.toString('base64url');
    bytes.fill(0);
    return { version, key };
  });
  const content: KeyFileContent = { format: KEY_FILE_FORMAT, primary: master.primary, keys };
  return `${JSON.stringify(content, null, 2)}\n`;
}

// Replaces the file in one step (a fresh 0600 file renamed over it), so a crash never leaves half a key file.
async function replaceFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content, { flag: 'wx', mode: 0o600 });
  await rename(temporary, path);
}

async function addVersion(path: string): Promise<number> {
  const master = await readKeyFile(path);
  const version = Math.max(...master.keys.keys()) + 1;
  const keys = new Map(master.keys);
  keys.set(version, new Secret(randomBytes(AES_256_KEY_BYTES)));
  await replaceFile(path, serialise({ primary: version, keys }));
  return version;
}

/**
 * Rotation of the local master key: adds a random version and makes it the primary. Existing
 * wraps keep decrypting with their version; re-wrap them (`npm run keys -- rewrap`) before
 * destroying it. Running services pick the new version up when they next open the KMS.
 */
export async function addLocalKmsVersion(keyFile: string): Promise<string> {
  return versionName(LOCAL_KEY_NAME, await addVersion(keyFile));
}

/** Rotation of a workspace's own key, as Cloud KMS rotates each key on its schedule. */
export async function addLocalWorkspaceKeyVersion(keyFile: string, tenantId: string): Promise<string> {
  return versionName(workspaceKeyName(tenantId), await addVersion(localWorkspaceKeyFile(keyFile, tenantId)));
}

/** Destroys an old version: whatever it still wraps can never be unwrapped again. */
export async function destroyLocalKmsVersion(path: string, version: number): Promise<void> {
  const master = await readKeyFile(path);
  if (version === master.primary) throw new KmsError('the primary version of the local KMS cannot be destroyed');
  const keys = new Map(master.keys);
  if (!keys.delete(version)) throw new KmsError(`local KMS version ${version} does not exist`);
  await replaceFile(path, serialise({ primary: master.primary, keys }));
}
