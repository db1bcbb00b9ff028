/**
 * The key management service that wraps (encrypts) data encryption keys. Only wrapped keys are ever
 * stored; unwrapping needs the KMS, so a copy of the database alone yields no key. Two providers
 * implement it: `local` (master keys on this machine, for development and tests) and `gcp` (Cloud
 * KMS).
 */
export interface WrappedKey {
  /** Opaque to the caller: only the KMS that made it can open it. */
  readonly ciphertext: Buffer;
  /** The KMS key version that wrapped it, e.g. `projects/…/cryptoKeys/…/cryptoKeyVersions/3`. */
  readonly keyVersion: string;
}

/** One KMS key (not a version): new wraps use its current primary version. */
export interface KeyWrapper {
  readonly keyName: string;
  /** Encrypts `plaintext` bound to `aad`; `decrypt` needs the same `aad`. */
  encrypt(plaintext: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /** Decrypts with whichever version wrapped the ciphertext. */
  decrypt(ciphertext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
}

/**
 * The KMS as the services use it. As a `KeyWrapper` it is the shared service key (identity's own
 * key is wrapped under it). Workspace data keys are wrapped under the workspace's own KMS key
 * instead, so that crypto-shredding can destroy that key: afterwards no wrapped data key of the
 * workspace opens again, not even the copies in database backups taken before.
 */
export interface KeyManagementService extends KeyWrapper {
  readonly provider: 'local' | 'gcp';
  /** The workspace's own key; `encrypt` makes it on first use. */
  workspaceKey(tenantId: string): KeyWrapper;
  /** Destroys every version of the workspace's key, for good; done again, it finds nothing to do. */
  destroyWorkspaceKey(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

/** A KMS call that failed. The message names the operation and the reason, never key material. */
export class KmsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsError';
  }
}

/** The KMS answered, but its answer failed the integrity checks every time it was asked. */
export class KmsIntegrityError extends KmsError {
  readonly attempts: number;
  constructor(operation: string, attempts: number, lastProblem: string) {
    super(`KMS ${operation} failed its integrity checks ${attempts} time(s), last: ${lastProblem}`);
    this.name = 'KmsIntegrityError';
    this.attempts = attempts;
  }
}
