import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { GCM_IV_BYTES, GCM_TAG_BYTES, openAesGcm, randomIv, sealAesGcm } from '../aes-gcm.ts';
import { crc32c } from '../crc32c.ts';

/**
 * A stand-in for Google's Cloud KMS on loopback, for tests only: a gRPC server implementing
 * `google.cloud.kms.v1.KeyManagementService` Encrypt, Decrypt, CreateCryptoKey,
 * ListCryptoKeyVersions and DestroyCryptoKeyVersion from the .proto files shipped in
 * `@google-cloud/kms`, so the real client library talks to it over real gRPC. It serves one key
 * ring: the configured key and any key created in its ring. It encrypts with AES-256-GCM under
 * keys it holds in memory, verifies request checksums and sets the `verified*` flags as Cloud KMS
 * does, refuses versions scheduled for destruction, and can be told to misbehave for the next few
 * calls.
 */
export const loopbackKmsFaults = [
  /** Flips a byte of the received plaintext (encrypt) or ciphertext (decrypt), as a damaged request would. */
  'corruptRequest',
  /** Encrypt: flips a byte of the ciphertext after its checksum was computed. */
  'corruptCiphertext',
  /** Encrypt: answers with a wrong `ciphertext_crc32c`. */
  'wrongCiphertextChecksum',
  /** Encrypt: leaves `ciphertext_crc32c` unset. */
  'missingCiphertextChecksum',
  /** Encrypt: answers `verified_plaintext_crc32c = false`. */
  'unverifiedPlaintext',
  /** Encrypt: answers `verified_additional_authenticated_data_crc32c = false`. */
  'unverifiedAad',
  /** Encrypt: names a version of another key. */
  'wrongKeyName',
  /** Decrypt: flips a byte of the plaintext after its checksum was computed. */
  'corruptPlaintext',
  /** Decrypt: answers with a wrong `plaintext_crc32c`. */
  'wrongPlaintextChecksum',
] as const;
export type LoopbackKmsFault = (typeof loopbackKmsFaults)[number];

export interface ReceivedKmsRequest {
  readonly method: 'encrypt' | 'decrypt';
  readonly name: string;
  /** The checksums the client sent, as numbers; undefined when the field was not sent. */
  readonly plaintextCrc32c?: number;
  readonly ciphertextCrc32c?: number;
  readonly additionalAuthenticatedDataCrc32c?: number;
}

export interface LoopbackKms {
  readonly host: string;
  readonly port: number;
  /** The CryptoKey name it serves from the start; others can be created in its key ring. */
  readonly keyName: string;
  /** The names of the CryptoKeys it holds. */
  keyNames(): string[];
  readonly requests: readonly ReceivedKmsRequest[];
  /** The next `times` calls the fault applies to misbehave that way (default: every call). */
  inject(fault: LoopbackKmsFault, times?: number): void;
  clearFaults(): void;
  /** Adds a version to a key (default: `keyName`) and makes it the primary, as a Cloud KMS rotation does. */
  rotate(name?: string): string;
  stop(): Promise<void>;
}

interface Int64Value {
  value?: string | number;
}

interface EncryptRequest {
  name: string;
  plaintext: Buffer;
  additionalAuthenticatedData: Buffer;
  plaintextCrc32c: Int64Value | null;
  additionalAuthenticatedDataCrc32c: Int64Value | null;
}

interface CreateCryptoKeyRequest {
  parent: string;
  cryptoKeyId: string;
}

interface NameRequest {
  name: string;
}

interface ParentRequest {
  parent: string;
}

interface ServedKey {
  readonly versions: Map<number, { readonly material: Buffer; state: 'ENABLED' | 'DESTROY_SCHEDULED' }>;
  primary: number;
}

interface DecryptRequest {
  name: string;
  ciphertext: Buffer;
  additionalAuthenticatedData: Buffer;
  ciphertextCrc32c: Int64Value | null;
  additionalAuthenticatedDataCrc32c: Int64Value | null;
}

class RpcError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

function protoDirectories(): string[] {
  const require = createRequire(import.meta.url);
  const kmsEntry = require.resolve('@google-cloud/kms');
  // The KMS package ships its own protos; the google/api and google/protobuf ones it imports come with google-gax.
  const gaxEntry = createRequire(kmsEntry).resolve('google-gax');
  return [join(dirname(kmsEntry), '..', 'protos'), join(dirname(gaxEntry), '..', 'protos')];
}

function serviceDefinition(): ServiceDefinition {
  const definition = loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs: protoDirectories(),
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: { service: ServiceDefinition } } } } };
  };
  return root.google.cloud.kms.v1.KeyManagementService.service;
}

const checksum = (field: Int64Value | null | undefined): number | undefined =>
  field === null || field === undefined || field.value === undefined ? undefined : Number(field.value);

const flipFirstByte = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  if (copy.length > 0) copy[0] = (copy[0] ?? 0) ^ 0x01;
  return copy;
};

export async function startLoopbackKms(
  keyName = 'projects/numezis-test/locations/europe-west6/keyRings/numezis/cryptoKeys/data-keys',
): Promise<LoopbackKms> {
  const keyRing = keyName.replace(/\/cryptoKeys\/[^/]+$/, '');
  const newKey = (): ServedKey => ({
    versions: new Map([[1, { material: randomBytes(32), state: 'ENABLED' as const }]]),
    primary: 1,
  });
  const keys = new Map<string, ServedKey>([[keyName, newKey()]]);
  const keyOf = (name: string): ServedKey => {
    const key = keys.get(name);
    if (key === undefined) throw new RpcError(status.NOT_FOUND, `CryptoKey ${name} not found.`);
    return key;
  };
  const notEnabled = (name: string) =>
    new RpcError(status.FAILED_PRECONDITION, `${name} is not enabled, current state is: DESTROY_SCHEDULED.`);
  const faults = new Map<LoopbackKmsFault, number>();
  const requests: ReceivedKmsRequest[] = [];

  const take = (fault: LoopbackKmsFault): boolean => {
    const left = faults.get(fault) ?? 0;
    if (left <= 0) return false;
    faults.set(fault, left - 1);
    return true;
  };

  const verifyChecksum = (field: string, data: Buffer, sent: number | undefined): boolean => {
    if (sent === undefined) return false;
    if (sent !== crc32c(data)) {
      throw new RpcError(
        status.INVALID_ARGUMENT,
        `The checksum in field ${field}_crc32c did not match the data in field ${field}.`,
      );
    }
    return true;
  };

  const encrypt = (request: EncryptRequest) => {
    const key = keyOf(request.name);
    const primary = key.primary;
    const primaryVersion = key.versions.get(primary);
    if (primaryVersion?.state !== 'ENABLED') throw notEnabled(`${request.name}/cryptoKeyVersions/${primary}`);
    const plaintext = take('corruptRequest') ? flipFirstByte(request.plaintext) : request.plaintext;
    const aad = request.additionalAuthenticatedData;
    const verifiedPlaintext = verifyChecksum('plaintext', plaintext, checksum(request.plaintextCrc32c));
    const verifiedAad = verifyChecksum(
      'additional_authenticated_data',
      aad,
      checksum(request.additionalAuthenticatedDataCrc32c),
    );
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(primary);
    const iv = randomIv();
    const { ciphertext, tag } = sealAesGcm(primaryVersion.material, iv, plaintext, aad);
    let body: Buffer = Buffer.concat([prefix, iv, ciphertext, tag]);
    let bodyChecksum: number | undefined = crc32c(body);
    if (take('corruptCiphertext')) body = flipFirstByte(body);
    if (take('wrongCiphertextChecksum')) bodyChecksum = (crc32c(body) + 1) % 2 ** 32;
    if (take('missingCiphertextChecksum')) bodyChecksum = undefined;
    const versionKey = take('wrongKeyName') ? request.name.replace(/[^/]+$/, 'someone-elses-key') : request.name;
    return {
      name: `${versionKey}/cryptoKeyVersions/${primary}`,
      ciphertext: body,
      ciphertextCrc32c: bodyChecksum === undefined ? null : { value: String(bodyChecksum) },
      verifiedPlaintextCrc32c: take('unverifiedPlaintext') ? false : verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: take('unverifiedAad') ? false : verifiedAad,
      protectionLevel: 'SOFTWARE',
    };
  };

  const decrypt = (request: DecryptRequest) => {
    const served = keyOf(request.name);
    const body = take('corruptRequest') ? flipFirstByte(request.ciphertext) : request.ciphertext;
    verifyChecksum('ciphertext', body, checksum(request.ciphertextCrc32c));
    verifyChecksum(
      'additional_authenticated_data',
      request.additionalAuthenticatedData,
      checksum(request.additionalAuthenticatedDataCrc32c),
    );
    const failed = () => new RpcError(status.INVALID_ARGUMENT, 'Decryption failed: the ciphertext is invalid.');
    if (body.length < 4 + GCM_IV_BYTES + GCM_TAG_BYTES) throw failed();
    const version = served.versions.get(body.readUInt32BE(0));
    if (version === undefined) throw failed();
    if (version.state !== 'ENABLED') throw notEnabled(`${request.name}/cryptoKeyVersions/${body.readUInt32BE(0)}`);
    const key = version.material;
    let plaintext: Buffer;
    try {
      plaintext = openAesGcm(
        key,
        body.subarray(4, 4 + GCM_IV_BYTES),
        body.subarray(4 + GCM_IV_BYTES, body.length - GCM_TAG_BYTES),
        body.subarray(body.length - GCM_TAG_BYTES),
        request.additionalAuthenticatedData,
      );
    } catch {
      throw failed();
    }
    let plaintextChecksum = crc32c(plaintext);
    if (take('corruptPlaintext')) plaintext = flipFirstByte(plaintext);
    if (take('wrongPlaintextChecksum')) plaintextChecksum = (plaintextChecksum + 1) % 2 ** 32;
    return {
      plaintext,
      plaintextCrc32c: { value: String(plaintextChecksum) },
      usedPrimary: body.readUInt32BE(0) === served.primary,
      protectionLevel: 'SOFTWARE',
    };
  };

  const createCryptoKey = (request: CreateCryptoKeyRequest) => {
    if (request.parent !== keyRing) throw new RpcError(status.NOT_FOUND, `KeyRing ${request.parent} not found.`);
    const name = `${keyRing}/cryptoKeys/${request.cryptoKeyId}`;
    if (keys.has(name)) throw new RpcError(status.ALREADY_EXISTS, `CryptoKey ${name} already exists.`);
    keys.set(name, newKey());
    return { name, purpose: 'ENCRYPT_DECRYPT', primary: { name: `${name}/cryptoKeyVersions/1`, state: 'ENABLED' } };
  };

  const listCryptoKeyVersions = (request: ParentRequest) => {
    const versions = [...keyOf(request.parent).versions].map(([number, version]) => ({
      name: `${request.parent}/cryptoKeyVersions/${number}`,
      state: version.state,
    }));
    return { cryptoKeyVersions: versions, nextPageToken: '', totalSize: versions.length };
  };

  const destroyCryptoKeyVersion = (request: NameRequest) => {
    const match = /^(.*)\/cryptoKeyVersions\/([0-9]+)$/.exec(request.name);
    const version = match === null ? undefined : keyOf(match[1] ?? '').versions.get(Number(match[2]));
    if (version === undefined) throw new RpcError(status.NOT_FOUND, `CryptoKeyVersion ${request.name} not found.`);
    version.state = 'DESTROY_SCHEDULED';
    return { name: request.name, state: version.state };
  };

  /** A call that is not recorded among `requests` (they are the Encrypt and Decrypt calls). */
  const plain =
    <Request, Response>(handle: (request: Request) => Response) =>
    (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
      try {
        callback(null, handle(call.request));
      } catch (error) {
        if (error instanceof RpcError) callback({ code: error.code, details: error.message });
        else callback({ code: status.INTERNAL, details: 'loopback KMS failed' });
      }
    };

  const unary =
    <Request extends { name: string }, Response>(
      method: 'encrypt' | 'decrypt',
      handle: (request: Request) => Response,
      checksums: (request: Request) => Omit<ReceivedKmsRequest, 'method' | 'name'>,
    ) =>
    (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
      requests.push({ method, name: call.request.name, ...checksums(call.request) });
      try {
        callback(null, handle(call.request));
      } catch (error) {
        if (error instanceof RpcError) callback({ code: error.code, details: error.message });
        else callback({ code: status.INTERNAL, details: 'loopback KMS failed' });
      }
    };

  const server = new Server();
  server.addService(serviceDefinition(), {
    CreateCryptoKey: plain(createCryptoKey),
    ListCryptoKeyVersions: plain(listCryptoKeyVersions),
    DestroyCryptoKeyVersion: plain(destroyCryptoKeyVersion),
    Encrypt: unary<EncryptRequest, ReturnType<typeof encrypt>>('encrypt', encrypt, (request) => {
      const plaintextCrc32c = checksum(request.plaintextCrc32c);
      const aadCrc32c = checksum(request.additionalAuthenticatedDataCrc32c);
      return {
        ...(plaintextCrc32c === undefined ? {} : { plaintextCrc32c }),
        ...(aadCrc32c === undefined ? {} : { additionalAuthenticatedDataCrc32c: aadCrc32c }),
      };
    }),
    Decrypt: unary<DecryptRequest, ReturnType<typeof decrypt>>('decrypt', decrypt, (request) => {
      const ciphertextCrc32c = checksum(request.ciphertextCrc32c);
      const aadCrc32c = checksum(request.additionalAuthenticatedDataCrc32c);
      return {
        ...(ciphertextCrc32c === undefined ? {} : { ciphertextCrc32c }),
        ...(aadCrc32c === undefined ? {} : { additionalAuthenticatedDataCrc32c: aadCrc32c }),
      };
    }),
  });
  const host = '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });

  return {
    host,
    port,
    keyName,
    requests,
    inject(fault, times = Number.POSITIVE_INFINITY) {
      faults.set(fault, times);
    },
    clearFaults() {
      faults.clear();
    },
    keyNames: () => [...keys.keys()],
    rotate(name = keyName) {
      const key = keyOf(name);
      key.primary = Math.max(...key.versions.keys()) + 1;
      key.versions.set(key.primary, { material: randomBytes(32), state: 'ENABLED' });
      return `${name}/cryptoKeyVersions/${key.primary}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
