import { canonicalAad, checkFieldRef, decodeSealedField, DecryptionError } from './aes-gcm.ts';
import type { FieldRef } from './aes-gcm.ts';
import { DataKeyNotFoundError } from './keyring.ts';
import type { Keyring } from './keyring.ts';

/** The column a blind index belongs to: the same value gets different indexes in different columns. */
export type IndexRef = Omit<FieldRef, 'rowId'>;

export interface FieldCipher {
  /** Seals `plaintext` for exactly this workspace, table, column and row under the current key. */
  encryptField(ref: FieldRef, plaintext: string): Promise<string>;
  /** Opens a value sealed for exactly this place; anything else fails with `DecryptionError`. */
  decryptField(ref: FieldRef, sealed: string): Promise<string>;
  /**
   * A keyed blind index for equality lookups (e.g. an IBAN): `v1.<indexKeyVersion>.<base64url(HMAC-SHA256)>`,
   * computed with the workspace's `index` key, never with the value alone. Callers normalise the
   * value first (see `normaliseIban`). Rotating the index key changes every index, so it needs a
   * re-index of the column.
   */
  blindIndex(ref: IndexRef, normalisedValue: string): Promise<string>;
}

/** Field encryption on top of the keyring; see aes-gcm.ts for the stored format. */
export function createFieldCipher(keyring: Keyring): FieldCipher {
  return {
    async encryptField(ref, plaintext) {
      checkFieldRef(ref);
      const key = await keyring.currentKey(ref.tenantId, 'field');
      return key.sealField(ref, Buffer.from(plaintext, 'utf8'));
    },

    async decryptField(ref, sealedText) {
      checkFieldRef(ref);
      const sealed = decodeSealedField(sealedText);
      let key;
      try {
        key = await keyring.keyForVersion(ref.tenantId, sealed.dekVersion, 'field');
      } catch (error) {
        // A version this workspace never had is a forged or misplaced value; KMS or database
        // trouble is not, and must surface as the failure it is.
        if (error instanceof DataKeyNotFoundError) throw new DecryptionError();
        throw error;
      }
      const bytes = key.openField(ref, sealed);
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new DecryptionError();
      } finally {
        bytes.fill(0);
      }
    },

    async blindIndex(ref, normalisedValue) {
      checkFieldRef({ ...ref, rowId: '-' });
      const key = await keyring.currentKey(ref.tenantId, 'index');
      const mac = key.mac(canonicalAad(['numezis.blind-index', 'v1', ref.table, ref.column, normalisedValue]));
      return `v1.${key.version}.${mac.toString('base64url')}`;
    },
  };
}

/** The canonical spelling of an IBAN for its blind index: no spaces, upper case. */
export function normaliseIban(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}
