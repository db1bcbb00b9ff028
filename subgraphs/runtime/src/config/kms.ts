import { AES_256_KEY_BYTES } from '../crypto/aes-gcm.ts';
import { dataResidencies, residencyProblem } from '../crypto/residency.ts';
import type { DataResidency } from '../crypto/residency.ts';
import { decodeBase64urlKey, Secret } from '../crypto/secret.ts';
import type { RuntimeEnvironment } from './common.ts';
import type { ConfigReader } from './reader.ts';

export const kmsProviders = ['local', 'gcp'] as const;
export type KmsProvider = (typeof kmsProviders)[number];

export type KmsSettings =
  | {
      readonly provider: 'local';
      /** Where the master key file is read, or created on first start. */
      readonly keyFile: string;
      /** KMS_LOCAL_MASTER_KEY: when set, used instead of the key file. */
      readonly masterKey?: Secret;
    }
  | {
      readonly provider: 'gcp';
      readonly keyName: string;
      /** KMS_GCP_ENDPOINT: a plaintext loopback endpoint for tests; production refuses it. */
      readonly endpoint?: { readonly host: string; readonly port: number };
    };

export interface EncryptionConfig {
  readonly kms: KmsSettings;
  readonly residency: DataResidency;
  /** How long an unwrapped data key stays in memory after it was fetched. */
  readonly dekCacheTtlMs: number;
}

/**
 * The KMS and data-key settings, shared by every service that encrypts fields:
 *
 * - `KMS_PROVIDER`: `local` (default outside production; refused in production) or `gcp`
 *   (required in production).
 * - `KMS_LOCAL_KEY_FILE`: the local master key file (default `defaultLocalKeyFile`), created with
 *   mode 0600 on first start. `KMS_LOCAL_MASTER_KEY`: a base64url 32-byte master key instead.
 * - `KMS_GCP_KEY_NAME`: `projects/…/locations/…/keyRings/…/cryptoKeys/…`.
 * - `KMS_GCP_ENDPOINT`: `host:port` of a plaintext gRPC stand-in for tests; refused in production.
 * - `DATA_RESIDENCY`: `strict-ch` (default: the Cloud KMS key must be in europe-west6) or `none`.
 * - `DEK_CACHE_TTL_SECONDS`: lifetime of an unwrapped data key in memory (default 300).
 */
export function readEncryptionConfig(
  reader: ConfigReader,
  environment: RuntimeEnvironment,
  options: { readonly defaultLocalKeyFile: string },
): EncryptionConfig {
  const production = environment === 'production';
  const providerText = reader.string('KMS_PROVIDER');
  if (production && providerText === undefined) reader.problem('KMS_PROVIDER is required when NODE_ENV=production');
  const provider = reader.oneOf('KMS_PROVIDER', kmsProviders, production ? 'gcp' : 'local');
  const residency = reader.oneOf('DATA_RESIDENCY', dataResidencies, 'strict-ch');
  const dekCacheTtlMs = reader.int('DEK_CACHE_TTL_SECONDS', 300, { min: 1, max: 3600 }) * 1000;

  const masterKeyText = reader.string('KMS_LOCAL_MASTER_KEY');
  const keyFileText = reader.string('KMS_LOCAL_KEY_FILE');
  const endpointText = reader.string('KMS_GCP_ENDPOINT');
  if (production) {
    if (provider === 'local') reader.problem('KMS_PROVIDER=local is refused when NODE_ENV=production; use gcp');
    for (const [name, value] of [
      ['KMS_LOCAL_MASTER_KEY', masterKeyText],
      ['KMS_LOCAL_KEY_FILE', keyFileText],
      ['KMS_GCP_ENDPOINT', endpointText],
    ] as const) {
      if (value !== undefined) reader.problem(`${name} must not be set when NODE_ENV=production`);
    }
  }

  if (provider === 'local') {
    if (masterKeyText !== undefined && keyFileText !== undefined) {
      reader.problem('set KMS_LOCAL_MASTER_KEY or KMS_LOCAL_KEY_FILE, not both');
    }
    const keyFile = keyFileText ?? options.defaultLocalKeyFile;
    if (masterKeyText === undefined) return { kms: { provider, keyFile }, residency, dekCacheTtlMs };
    const bytes = decodeBase64urlKey(masterKeyText, AES_256_KEY_BYTES);
    if (bytes === undefined) {
      // The value itself is a secret and stays out of the message.
      reader.problem('KMS_LOCAL_MASTER_KEY must be 32 bytes as unpadded base64url');
      return { kms: { provider, keyFile }, residency, dekCacheTtlMs };
    }
    const masterKey = new Secret(bytes);
    bytes.fill(0);
    return { kms: { provider, keyFile, masterKey }, residency, dekCacheTtlMs };
  }

  const keyName = reader.required('KMS_GCP_KEY_NAME');
  if (keyName !== '') {
    const problem = residencyProblem(keyName, residency);
    if (problem !== undefined) reader.problem(`KMS_GCP_KEY_NAME ${problem} (DATA_RESIDENCY=${residency})`);
  }
  if (endpointText === undefined) return { kms: { provider, keyName }, residency, dekCacheTtlMs };
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(endpointText);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    reader.problem(`KMS_GCP_ENDPOINT must be host:port, got "${endpointText}"`);
    return { kms: { provider, keyName }, residency, dekCacheTtlMs };
  }
  return { kms: { provider, keyName, endpoint: { host: match[1] ?? '', port } }, residency, dekCacheTtlMs };
}
