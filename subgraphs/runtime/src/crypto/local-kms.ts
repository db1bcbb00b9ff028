import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RuntimeEnvironment } from '../config/common.ts';
import { AES_256_KEY_BYTES, GCM_IV_BYTES, GCM_TAG_BYTES, openAesGcm, randomIv, sealAesGcm } from './aes-gcm.ts';
import { KmsError } from './kms.ts';
import type { KeyManagementService, WrappedKey } from './kms.ts';
import { decodeBase64urlKey, Secret } from './secret.ts';

/**
 * The embedded KMS for `npm start` and tests: master keys held on this machine, in a key file
 * created on first start (mode 0600) or given as a setting. Anyone who can read that file can
 * unwrap every data key, which is exactly what production must not allow, so it refuses to run
 * there.
 *
 * Like Cloud KMS it has versions: new wraps use the primary, and a ciphertext names the version
 * that made it, so old versions keep decrypting after a rotation until they are destroyed.
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
  /** A single master key (version 1), from the KMS_LOCAL_MASTER_KEY setting. */
  readonly masterKey?: Secret;
}

export const LOCAL_KEY_NAME = 'local';
const KEY_FILE_FORMAT = 'numezis-local-kms-v1';
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

const versionName = (version: number) => `${LOCAL_KEY_NAME}/cryptoKeyVersions/${version}`;

export async function openLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  if (options.environment === 'production') {
    throw new KmsError('the local KMS provider is refused when NODE_ENV=production; set KMS_PROVIDER=gcp');
  }
  let master: MasterKeys;
  if (options.masterKey !== undefined) {
    if (options.masterKey.length !== AES_256_KEY_BYTES) throw new KmsError('local KMS master key must be 32 bytes');
    master = { primary: 1, keys: new Map([[1, options.masterKey]]) };
  } else if (options.keyFile !== undefined) {
    master = await readOrCreateKeyFile(options.keyFile);
  } else {
    throw new KmsError('the local KMS needs a key file or a master key');
  }
  return localKms(master);
}

function localKms(master: MasterKeys): LocalKms {
  const primaryKey = master.keys.get(master.primary);
  if (primaryKey === undefined) throw new KmsError('local KMS key file names a primary version it does not hold');
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
  return {
    provider: 'local',
    keyName: LOCAL_KEY_NAME,
    primaryVersion: versionName(master.primary),
    async encrypt(plaintext, aad): Promise<WrappedKey> {
      const prefix = header(master.primary);
      const iv = randomIv();
      // The header is authenticated too, so a ciphertext cannot be relabelled as another version.
      const { ciphertext, tag } = withKey(primaryKey, (key) =>
        sealAesGcm(key, iv, plaintext, Buffer.concat([prefix, aad])),
      );
      return { ciphertext: Buffer.concat([prefix, iv, ciphertext, tag]), keyVersion: versionName(master.primary) };
    },
    async decrypt(wrapped, aad): Promise<Buffer> {
      const bytes = Buffer.from(wrapped);
      if (bytes.length < HEADER_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES || bytes.readUInt8(0) !== CIPHERTEXT_FORMAT) {
        throw new KmsError('local KMS decrypt failed: not a local KMS ciphertext');
      }
      const version = bytes.readUInt32BE(1);
      const secret = master.keys.get(version);
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
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new KmsError(`local KMS key file ${path} must be readable by its owner only (chmod 600)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new KmsError(`local KMS key file ${path} is not valid JSON`);
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
async function writeKeyFile(path: string, master: MasterKeys): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, serialise(master), { flag: 'wx', mode: 0o600 });
  await rename(temporary, path);
}

/**
 * Rotation of the local master key: adds a random version and makes it the primary. Existing
 * wraps keep decrypting with their version; re-wrap them (keyring `rewrapAll`) before destroying it.
 * Running services pick the new version up when they next open the KMS.
 */
export async function addLocalKmsVersion(path: string): Promise<string> {
  const master = await readKeyFile(path);
  const version = Math.max(...master.keys.keys()) + 1;
  const keys = new Map(master.keys);
  keys.set(version, new Secret(randomBytes(AES_256_KEY_BYTES)));
  await writeKeyFile(path, { primary: version, keys });
  return versionName(version);
}

/** Destroys an old version: whatever it still wraps can never be unwrapped again. */
export async function destroyLocalKmsVersion(path: string, version: number): Promise<void> {
  const master = await readKeyFile(path);
  if (version === master.primary) throw new KmsError('the primary version of the local KMS cannot be destroyed');
  const keys = new Map(master.keys);
  if (!keys.delete(version)) throw new KmsError(`local KMS version ${version} does not exist`);
  await writeKeyFile(path, { primary: master.primary, keys });
}
