import { createHmac } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { AES_256_KEY_BYTES, canonicalAad, openAesGcm, openField, randomIv, sealAesGcm, sealField } from './aes-gcm.ts';
import type { FieldRef, GcmSealed, SealedField } from './aes-gcm.ts';
import type { KeyPurpose } from './data-keys-table.ts';

/** The AAD a DEK is wrapped under: workspace, purpose and version, unambiguously encoded. */
export function wrapAad(tenantId: string, purpose: KeyPurpose, version: number): Buffer {
  return canonicalAad(['numezis.data-key', 'v1', tenantId, purpose, String(version)]);
}

/** A problem with the data keys. Messages name the workspace and version, never key material. */
export class KeyringError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyringError';
  }
}

/** The workspace has no such key version (never had one, or it was destroyed). */
export class DataKeyNotFoundError extends KeyringError {
  constructor(tenantId: string, purpose: KeyPurpose, version: number) {
    super(`workspace ${tenantId} has no ${purpose} key v${version}`);
    this.name = 'DataKeyNotFoundError';
  }
}

/**
 * One unwrapped data key. The key is a KeyObject in a private field: JSON, `util.inspect` and
 * string conversion show only which key it is, and the bytes never leave the object; callers use it
 * through `sealField`, `openField` and `mac`.
 */
export class DataKey {
  readonly tenantId: string;
  readonly purpose: KeyPurpose;
  readonly version: number;
  readonly #key: KeyObject;

  constructor(tenantId: string, purpose: KeyPurpose, version: number, key: KeyObject) {
    if (key.type !== 'secret' || key.symmetricKeySize !== AES_256_KEY_BYTES) {
      throw new KeyringError('a data key must be a 256-bit secret key');
    }
    this.tenantId = tenantId;
    this.purpose = purpose;
    this.version = version;
    this.#key = key;
  }

  #require(purpose: KeyPurpose, ref?: { readonly tenantId: string }): void {
    if (this.purpose !== purpose) throw new KeyringError(`a ${this.purpose} key cannot be used for ${purpose}`);
    // Defence in depth: one workspace's key never touches another workspace's values.
    if (ref !== undefined && ref.tenantId !== this.tenantId) {
      throw new KeyringError('a data key only serves its own workspace');
    }
  }

  sealField(ref: FieldRef, plaintext: Uint8Array): string {
    this.#require('field', ref);
    return sealField(this.#key, this.version, ref, plaintext);
  }

  openField(ref: FieldRef, sealed: SealedField): Buffer {
    this.#require('field', ref);
    if (sealed.dekVersion !== this.version) throw new KeyringError('sealed value names another key version');
    return openField(this.#key, sealed, ref);
  }

  /**
   * Seals bytes that are not one column value (a chunk of a file, say) under a `field` key, with a
   * fresh random 96-bit IV. `aad` must say what and where the bytes are, under a label of its own
   * (`canonicalAad(['numezis.<kind>', ...])`), so they open nowhere else. Every call counts against
   * the key's budget of 2^32 random IVs, as a sealed field does: rotate long before.
   */
  sealBytes(ref: { readonly tenantId: string }, plaintext: Uint8Array, aad: Uint8Array): GcmSealed & { iv: Buffer } {
    this.#require('field', ref);
    const iv = randomIv();
    return { iv, ...sealAesGcm(this.#key, iv, plaintext, aad) };
  }

  /** Opens what `sealBytes` sealed with the same `aad`; anything else fails with `DecryptionError`. */
  openBytes(
    ref: { readonly tenantId: string },
    sealed: GcmSealed & { readonly iv: Uint8Array },
    aad: Uint8Array,
  ): Buffer {
    this.#require('field', ref);
    return openAesGcm(this.#key, sealed.iv, sealed.ciphertext, sealed.tag, aad);
  }

  /** HMAC-SHA256 under an `index` key. */
  mac(data: Uint8Array): Buffer {
    this.#require('index');
    return createHmac('sha256', this.#key).update(data).digest();
  }

  toJSON(): { tenantId: string; purpose: KeyPurpose; version: number } {
    return { tenantId: this.tenantId, purpose: this.purpose, version: this.version };
  }

  toString(): string {
    return `DataKey(${this.tenantId}, ${this.purpose}, v${this.version})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
