/**
 * Data residency of the keys that protect workspace data. Kept apart from the Cloud KMS client so
 * configuration can check a key name without loading the client library.
 */
export const dataResidencies = ['strict-ch', 'none'] as const;
export type DataResidency = (typeof dataResidencies)[number];
/** Zurich: the only Cloud KMS location strict Swiss residency accepts. */
export const SWISS_LOCATION = 'europe-west6';

export interface CryptoKeyName {
  readonly project: string;
  readonly location: string;
  readonly keyRing: string;
  readonly cryptoKey: string;
}

const SEGMENT = '[A-Za-z0-9_-]{1,63}';
const CRYPTO_KEY_NAME = new RegExp(
  `^projects/(${SEGMENT})/locations/(${SEGMENT})/keyRings/(${SEGMENT})/cryptoKeys/(${SEGMENT})$`,
);

/** Parses `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`; a key version name is refused. */
export function parseCryptoKeyName(name: string): CryptoKeyName | undefined {
  const match = CRYPTO_KEY_NAME.exec(name);
  if (match === null) return undefined;
  const [, project = '', location = '', keyRing = '', cryptoKey = ''] = match;
  return { project, location, keyRing, cryptoKey };
}

/** Why `keyName` may not be used under `residency`, or undefined when it may. */
export function residencyProblem(keyName: string, residency: DataResidency): string | undefined {
  const parsed = parseCryptoKeyName(keyName);
  if (parsed === undefined) return 'must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>';
  if (residency === 'strict-ch' && parsed.location !== SWISS_LOCATION) {
    return `is in location "${parsed.location}"; strict Swiss residency needs a key in ${SWISS_LOCATION}`;
  }
  return undefined;
}
