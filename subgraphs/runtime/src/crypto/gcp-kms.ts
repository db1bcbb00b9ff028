import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials, status } from '@grpc/grpc-js';
import { crc32c } from './crc32c.ts';
import { KmsError, KmsIntegrityError } from './kms.ts';
import type { KeyManagementService, WrappedKey } from './kms.ts';
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
  const versionPrefix = `${options.keyName}/cryptoKeyVersions/`;

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

  return {
    provider: 'gcp',
    keyName: options.keyName,
    encrypt(plaintext, aad) {
      const plaintextCrc32c = crc32c(plaintext);
      const aadCrc32c = crc32c(aad);
      return withIntegrityRetries('encrypt', async (): Promise<WrappedKey> => {
        const [response] = await client.encrypt(
          {
            name: options.keyName,
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
    },
    decrypt(ciphertext, aad) {
      const ciphertextCrc32c = crc32c(ciphertext);
      const aadCrc32c = crc32c(aad);
      return withIntegrityRetries('decrypt', async () => {
        const [response] = await client.decrypt(
          {
            name: options.keyName,
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
    close: () => client.close(),
  };
}
