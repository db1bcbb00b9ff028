import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface SecretBoxKey {
  readonly id: string;
  /** 32 bytes of AES-256 key material. */
  readonly key: Buffer;
}

export interface SecretBoxKeys {
  /** Seals every new value. */
  readonly current: SecretBoxKey;
  /** Only opens values sealed before a rotation; drop a key once nothing sealed under it remains. */
  readonly previous?: readonly SecretBoxKey[];
}

export interface SecretBox {
  /** `aad` names what the value belongs to (e.g. `totp:<userId>`); `open` must be given the same. */
  seal(plaintext: Buffer, aad: string): string;
  open(sealed: string, aad: string): Buffer;
}

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
// Ids end up inside the dot-separated sealed format, so keep them plain.
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

const OPEN_FAILED = 'sealed value cannot be opened';

function encode(bytes: Buffer): string {
  return bytes.toString('base64url');
}

// Node's base64url decoder skips characters it does not understand; re-encoding rejects anything
// that is not the canonical form.
function decode(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return encode(bytes) === text ? bytes : null;
}

// The version and key id are authenticated along with the caller's AAD, so a value cannot be
// relabelled under another format version or key id.
function associatedData(keyId: string, aad: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${aad}`, 'utf8');
}

function importKey(entry: SecretBoxKey): KeyObject {
  if (!KEY_ID_PATTERN.test(entry.id)) {
    throw new Error('secret box key id must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  if (entry.key.length !== KEY_LENGTH) {
    throw new Error(`secret box key "${entry.id}" must be exactly ${KEY_LENGTH} bytes`);
  }
  // A KeyObject holds its own copy, so later changes to the caller's buffer cannot affect it.
  return createSecretKey(entry.key);
}

export function createSecretBox(key: Buffer, keyId: string): SecretBox;
export function createSecretBox(keys: SecretBoxKeys): SecretBox;
export function createSecretBox(keyOrKeys: Buffer | SecretBoxKeys, keyId?: string): SecretBox {
  const keys: SecretBoxKeys = Buffer.isBuffer(keyOrKeys) ? { current: { id: keyId ?? '', key: keyOrKeys } } : keyOrKeys;

  const byId = new Map<string, KeyObject>();
  for (const entry of [keys.current, ...(keys.previous ?? [])]) {
    if (byId.has(entry.id)) throw new Error(`secret box key id "${entry.id}" is configured more than once`);
    byId.set(entry.id, importKey(entry));
  }
  const currentId = keys.current.id;
  const currentKey = byId.get(currentId);
  if (!currentKey) throw new Error('secret box has no current key');

  return {
    seal(plaintext, aad) {
      if (aad.length === 0) throw new Error('secret box needs a non-empty AAD naming the owner of the value');
      // A random 96-bit IV per value; GCM is only safe while no IV repeats under one key.
      const iv = randomBytes(IV_LENGTH);
      const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_LENGTH });
      cipher.setAAD(associatedData(currentId, aad));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, currentId, encode(iv), encode(ciphertext), encode(tag)].join('.');
    },

    open(sealed, aad) {
      // One generic message for every failure: which check failed is of no use to a caller and
      // could help an attacker probing with forged values.
      try {
        const parts = sealed.split('.');
        if (parts.length !== 5 || aad.length === 0) throw new Error(OPEN_FAILED);
        const [version, id, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
        const key = version === VERSION ? byId.get(id) : undefined;
        const iv = decode(ivText);
        const ciphertext = decode(ciphertextText);
        const tag = decode(tagText);
        // GCM accepts shorter tags unless told otherwise, and a short tag is far easier to forge.
        if (!key || !iv || !ciphertext || !tag || iv.length !== IV_LENGTH || tag.length !== TAG_LENGTH) {
          throw new Error(OPEN_FAILED);
        }
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_LENGTH });
        decipher.setAAD(associatedData(id, aad));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch {
        throw new Error(OPEN_FAILED);
      }
    },
  };
}

/** The key id a sealed value names (whether or not it opens), or undefined for anything else. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split('.');
  const id = parts[1];
  return parts.length === 5 && parts[0] === VERSION && id !== undefined && KEY_ID_PATTERN.test(id) ? id : undefined;
}
