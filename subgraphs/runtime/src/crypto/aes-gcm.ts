import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isUuid } from '../context/signed-context.ts';

export const AES_256_KEY_BYTES = 32;
/** GCM is specified for any IV length, but only 96 bits avoids GHASH-derived counters (see Wycheproof's CounterWrap). */
export const GCM_IV_BYTES = 12;
/** Shorter GCM tags are legal and far easier to forge; we write and accept only full-length tags. */
export const GCM_TAG_BYTES = 16;

const ALGORITHM = 'aes-256-gcm';

/**
 * Every reason a ciphertext is refused looks the same to the caller: which check failed is of no
 * use to a legitimate caller and helps someone probing with forged values.
 */
export class DecryptionError extends Error {
  constructor() {
    super('ciphertext cannot be decrypted');
    this.name = 'DecryptionError';
  }
}

export type AesKey = KeyObject | Uint8Array;

export interface GcmSealed {
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function checkKey(key: AesKey): void {
  const length = key instanceof Uint8Array ? key.length : key.type === 'secret' ? key.symmetricKeySize : undefined;
  if (length !== AES_256_KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
}

/** A fresh random 96-bit IV. With random IVs one key may seal at most 2^32 values (NIST SP 800-38D 8.3). */
export function randomIv(): Buffer {
  return randomBytes(GCM_IV_BYTES);
}

/** AES-256-GCM encryption with a 12-byte IV and a 16-byte tag; anything else is a programming error. */
export function sealAesGcm(key: AesKey, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): GcmSealed {
  checkKey(key);
  if (iv.length !== GCM_IV_BYTES) throw new RangeError(`AES-GCM IV must be ${GCM_IV_BYTES} bytes`);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * AES-256-GCM decryption. The IV and tag lengths are checked here rather than left to OpenSSL:
 * without `authTagLength` Node accepts truncated tags, and GCM itself accepts any IV length.
 */
export function openAesGcm(
  key: AesKey,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Buffer {
  checkKey(key);
  if (iv.length !== GCM_IV_BYTES || tag.length !== GCM_TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

/**
 * Encodes a list of strings so that no two different lists give the same bytes: each part is its
 * UTF-8 length (4 bytes, big-endian) followed by its UTF-8 bytes. A separator character would let
 * `("a|b", "c")` and `("a", "b|c")` collide; a length prefix cannot.
 */
export function canonicalAad(parts: readonly string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

/** Where an encrypted value lives; the ciphertext is bound to exactly this place. */
export interface FieldRef {
  /** The workspace (tenant) id, a UUID. */
  readonly tenantId: string;
  readonly table: string;
  readonly column: string;
  /** The primary key of the row, as text. */
  readonly rowId: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_ROW_ID_LENGTH = 200;

export function checkFieldRef(ref: FieldRef): void {
  if (!isUuid(ref.tenantId)) throw new RangeError('encrypted field: tenant id must be a UUID');
  if (!IDENTIFIER.test(ref.table)) throw new RangeError('encrypted field: table must be a lower-case SQL identifier');
  if (!IDENTIFIER.test(ref.column)) throw new RangeError('encrypted field: column must be a lower-case SQL identifier');
  if (ref.rowId.length === 0 || ref.rowId.length > MAX_ROW_ID_LENGTH) {
    throw new RangeError(`encrypted field: row id must be 1-${MAX_ROW_ID_LENGTH} characters`);
  }
}

export const FIELD_FORMAT_VERSION = 'v1';
const MAX_DEK_VERSION = 2_147_483_647;

/**
 * The AAD of a field value: format version, workspace, table, column, row id and DEK version.
 * Copying a ciphertext to another row, column, table or workspace, or relabelling its DEK version,
 * makes decryption fail.
 */
export function fieldAad(ref: FieldRef, dekVersion: number): Buffer {
  return canonicalAad([
    'numezis.field',
    FIELD_FORMAT_VERSION,
    ref.tenantId,
    ref.table,
    ref.column,
    ref.rowId,
    String(dekVersion),
  ]);
}

/**
 * A sealed field, as stored in a text column:
 *
 *     v1.<dekVersion>.<base64url(iv ‖ ciphertext ‖ tag)>
 *
 * `v1` names this format (AES-256-GCM, 12-byte IV, 16-byte tag, AAD from `fieldAad`), `dekVersion`
 * the workspace's data encryption key version (decimal, no leading zeros), and the last part is
 * unpadded base64url. Text keeps the value readable by both database drivers and in a dump, where a
 * reader can see which key version a row still depends on.
 */
export interface SealedField {
  readonly dekVersion: number;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function isDekVersion(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= MAX_DEK_VERSION;
}

export function encodeSealedField(sealed: SealedField): string {
  if (!isDekVersion(sealed.dekVersion)) throw new RangeError('DEK version must be a positive 31-bit integer');
  const body = Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]).toString('base64url');
  return `${FIELD_FORMAT_VERSION}.${sealed.dekVersion}.${body}`;
}

/** Parses the stored text strictly; anything not in the canonical form is refused. */
export function decodeSealedField(text: string): SealedField {
  const match = /^v1\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]+)$/.exec(text);
  if (match === null) throw new DecryptionError();
  const dekVersion = Number(match[1]);
  const bodyText = match[2] ?? '';
  const body = Buffer.from(bodyText, 'base64url');
  // Node's decoder ignores stray trailing bits; re-encoding refuses every non-canonical spelling.
  if (!isDekVersion(dekVersion) || body.toString('base64url') !== bodyText) throw new DecryptionError();
  if (body.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new DecryptionError();
  return {
    dekVersion,
    iv: body.subarray(0, GCM_IV_BYTES),
    ciphertext: body.subarray(GCM_IV_BYTES, body.length - GCM_TAG_BYTES),
    tag: body.subarray(body.length - GCM_TAG_BYTES),
  };
}

/** Seals `plaintext` for `ref` under one DEK version, with a fresh IV. */
export function sealField(key: AesKey, dekVersion: number, ref: FieldRef, plaintext: Uint8Array): string {
  checkFieldRef(ref);
  const iv = randomIv();
  const { ciphertext, tag } = sealAesGcm(key, iv, plaintext, fieldAad(ref, dekVersion));
  return encodeSealedField({ dekVersion, iv, ciphertext, tag });
}

/** Opens a value parsed by `decodeSealedField` with the key of its DEK version. */
export function openField(key: AesKey, sealed: SealedField, ref: FieldRef): Buffer {
  checkFieldRef(ref);
  return openAesGcm(key, sealed.iv, sealed.ciphertext, sealed.tag, fieldAad(ref, sealed.dekVersion));
}
