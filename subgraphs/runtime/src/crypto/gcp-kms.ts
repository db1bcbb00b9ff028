import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials, status } from '@grpc/grpc-js';
import { crc32c } from './crc32c.ts';
import { KmsError, KmsIntegrityError } from './kms.ts';
import type { KeyManagementService, KeyWrapper, WrappedKey } from './kms.ts';
import { isUuid } from '../context/signed-context.ts';
import { residencyProblem } from './residency.ts';
import type { DataResidency } from './residency.ts';

export interface GcpKmsOptions {
  readonly keyName: string;
  readonly residency: DataResidency;
  /** How often one call is tried when answers fail the integrity checks. */
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  /** A plaintext gRPC endpoint on loopback, for tests against a local stand-in; never production. */
  readonly endpoint?: { readonly host: string; readonly port: number };
}

interface Int64Like {
  readonly value?: number | string | { toString(): string } | null;
}

/** int64 fields arrive as numbers, strings or Long objects depending on the loader. */
function checksumOf(field: Int64Like | null | undefined): number | undefined {
  const value = field?.value;
  if (value === undefined || value === null) return undefined;
  const number = Number(typeof value === 'number' ? value : value.toString());
  return Number.isSafeInteger(number) ? number : undefined;
}

const toBuffer = (value: Uint8Array | string | null | undefined): Buffer | undefined =>
  value === null || value === undefined
    ? undefined
    : typeof value === 'string'
      ? Buffer.from(value, 'base64')
      : Buffer.from(value);

/** Raised inside one attempt: the answer is discarded and the call tried again. */
class IntegrityProblem extends Error {}

/** A KmsError whose cause is Cloud KMS saying the key does not exist. */
function isNotFound(error: unknown): boolean {
  return error instanceof KmsError && (error.cause as { code?: unknown } | undefined)?.code === status.NOT_FOUND;
}

function isRequestChecksumRejection(error: unknown): boolean {
  // Cloud KMS answers INVALID_ARGUMENT when a request checksum does not match what it received,
  // i.e. the request was damaged on the way; Google's guidance is to retry a limited number of times.
  const { code, details, message } = error as { code?: unknown; details?: unknown; message?: unknown };
  const text = `${typeof details === 'string' ? details : ''} ${typeof message === 'string' ? message : ''}`;
  return code === status.INVALID_ARGUMENT && /checksum|crc32c/i.test(text);
}

/**
 * Cloud KMS through `@google-cloud/kms`, following Google's data-integrity guidelines on every
 * call: the request carries CRC32C checksums of the plaintext (or ciphertext) and the AAD; the
 * encrypt answer must confirm both were verified, carry a CRC32C matching its ciphertext and name a
 * version of the configured key; the decrypt answer's CRC32C must match its plaintext. An answer
 * that fails a check is discarded and the call retried, at most `maxAttempts` times in all; then
 * the call fails and the caller stores nothing.
 *
 * Workspace keys are CryptoKeys of their own in the configured key's key ring, named
 * `workspace-<workspace id>`, made on first use with a 90-day automatic rotation (CIS GCP 1.10);
 * they inherit the ring's location, so residency holds for them too. Crypto-shredding schedules
 * every version for destruction: Cloud KMS keeps them restorable for the key's destruction period
 * (30 days unless configured otherwise), then the material is gone.
 */
export function createGcpKms(options: GcpKmsOptions): KeyManagementService {
  const problem = residencyProblem(options.keyName, options.residency);
  if (problem !== undefined) throw new KmsError(`Cloud KMS key ${options.keyName} ${problem}`);
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) {
    throw new KmsError('Cloud KMS maxAttempts must be between 1 and 10');
  }
  const callOptions = { timeout: options.timeoutMs ?? 15_000 };
  const client =
    options.endpoint === undefined
      ? new KeyManagementServiceClient()
      : new KeyManagementServiceClient({
          apiEndpoint: options.endpoint.host,
          port: options.endpoint.port,
          sslCreds: credentials.createInsecure(),
          // Naming the universe keeps google-auth-library from probing for credentials (the GCE
          // metadata server) just to learn it: this endpoint needs no credentials at all.
          universeDomain: 'googleapis.com',
        });

  async function withIntegrityRetries<T>(operation: string, attempt: () => Promise<T>): Promise<T> {
    let lastProblem = '';
    for (let attempts = 1; attempts <= maxAttempts; attempts++) {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof IntegrityProblem) {
          lastProblem = error.message;
        } else if (isRequestChecksumRejection(error)) {
          lastProblem = 'Cloud KMS rejected a request checksum (the request was damaged in transit)';
        } else {
          throw new KmsError(`Cloud KMS ${operation} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    throw new KmsIntegrityError(operation, maxAttempts, lastProblem);
  }

  const keyRing = options.keyName.replace(/\/cryptoKeys\/[^/]+$/, '');
  const workspaceKeyId = (tenantId: string) => {
    if (!isUuid(tenantId)) throw new KmsError('Cloud KMS: a workspace key needs a workspace UUID');
    return `workspace-${tenantId}`;
  };

  /** Makes the workspace's CryptoKey; one made meanwhile by another process is as good. */
  async function createWorkspaceKey(tenantId: string): Promise<void> {
    const rotationSeconds = 90 * 24 * 3600;
    try {
      await client.createCryptoKey(
        {
          parent: keyRing,
          cryptoKeyId: workspaceKeyId(tenantId),
          cryptoKey: {
            purpose: 'ENCRYPT_DECRYPT',
            versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' },
            rotationPeriod: { seconds: rotationSeconds },
            nextRotationTime: { seconds: Math.floor(Date.now() / 1000) + rotationSeconds },
            labels: { numezis: 'workspace-key' },
          },
        },
        callOptions,
      );
    } catch (error) {
      if ((error as { code?: unknown }).code !== status.ALREADY_EXISTS) {
        throw new KmsError(`Cloud KMS could not create the key of workspace ${tenantId}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  const wrapper = (keyName: string, createMissing?: () => Promise<void>): KeyWrapper => {
    const versionPrefix = `${keyName}/cryptoKeyVersions/`;
    const encryptOnce = (plaintext: Uint8Array, aad: Uint8Array) => {
      const plaintextCrc32c = crc32c(plaintext);
      const aadCrc32c = crc32c(aad);
      return withIntegrityRetries('encrypt', async (): Promise<WrappedKey> => {
        const [response] = await client.encrypt(
          {
            name: keyName,
            plaintext: Buffer.from(plaintext),
            additionalAuthenticatedData: Buffer.from(aad),
            plaintextCrc32c: { value: plaintextCrc32c },
            additionalAuthenticatedDataCrc32c: { value: aadCrc32c },
          },
          callOptions,
        );
        if (response.verifiedPlaintextCrc32c !== true) {
          throw new IntegrityProblem('Cloud KMS did not confirm the plaintext checksum');
        }
        if (response.verifiedAdditionalAuthenticatedDataCrc32c !== true) {
          throw new IntegrityProblem('Cloud KMS did not confirm the AAD checksum');
        }
        const ciphertext = toBuffer(response.ciphertext);
        if (ciphertext === undefined || ciphertext.length === 0) {
          throw new IntegrityProblem('Cloud KMS returned no ciphertext');
        }
        if (checksumOf(response.ciphertextCrc32c) !== crc32c(ciphertext)) {
          throw new IntegrityProblem('the ciphertext does not match its checksum');
        }
        const name = response.name ?? '';
        if (!name.startsWith(versionPrefix) || !/^[1-9][0-9]*$/.test(name.slice(versionPrefix.length))) {
          throw new IntegrityProblem('the answer names a key version that is not of the configured key');
        }
        return { ciphertext, keyVersion: name };
      });
    };
    return {
      keyName,
      async encrypt(plaintext, aad) {
        try {
          return await encryptOnce(plaintext, aad);
        } catch (error) {
          if (createMissing === undefined || !isNotFound(error)) throw error;
          await createMissing();
          return encryptOnce(plaintext, aad);
        }
      },
      decrypt(ciphertext, aad) {
        const ciphertextCrc32c = crc32c(ciphertext);
        const aadCrc32c = crc32c(aad);
        return withIntegrityRetries('decrypt', async () => {
          const [response] = await client.decrypt(
            {
              name: keyName,
              ciphertext: Buffer.from(ciphertext),
              additionalAuthenticatedData: Buffer.from(aad),
              ciphertextCrc32c: { value: ciphertextCrc32c },
              additionalAuthenticatedDataCrc32c: { value: aadCrc32c },
            },
            callOptions,
          );
          const plaintext = toBuffer(response.plaintext) ?? Buffer.alloc(0);
          if (checksumOf(response.plaintextCrc32c) !== crc32c(plaintext)) {
            plaintext.fill(0);
            throw new IntegrityProblem('the plaintext does not match its checksum');
          }
          return plaintext;
        });
      },
    };
  };

  return {
    provider: 'gcp',
    ...wrapper(options.keyName),
    workspaceKey: (tenantId) =>
      wrapper(`${keyRing}/cryptoKeys/${workspaceKeyId(tenantId)}`, () => createWorkspaceKey(tenantId)),
    async destroyWorkspaceKey(tenantId) {
      const parent = `${keyRing}/cryptoKeys/${workspaceKeyId(tenantId)}`;
      try {
        const [versions] = await client.listCryptoKeyVersions({ parent }, callOptions);
        for (const version of versions) {
          if (version.name === null || version.name === undefined) continue;
          // States arrive as names or enum numbers depending on the decoder (3 DESTROYED, 4 DESTROY_SCHEDULED).
          if (['DESTROYED', 'DESTROY_SCHEDULED', '3', '4'].includes(String(version.state))) continue;
          await client.destroyCryptoKeyVersion({ name: version.name }, callOptions);
        }
      } catch (error) {
        // A workspace that never sealed anything has no key to destroy.
        if ((error as { code?: unknown }).code === status.NOT_FOUND) return;
        throw new KmsError(
          `Cloud KMS could not destroy the key of workspace ${tenantId}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    },
    close: () => client.close(),
  };
}
