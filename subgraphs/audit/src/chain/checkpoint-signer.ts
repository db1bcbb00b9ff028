import { createPublicKey, sign, verify } from 'node:crypto';
import type { SigningKey, VerifyKeys } from '@numezis/runtime';

/**
 * Signed checkpoints: an Ed25519 signature over a workspace's sequence number, chain hash and time.
 * The signing key lives in the service's configuration, never in the database, so someone who can
 * rewrite the database can rebuild a consistent chain but cannot sign it.
 */
export interface CheckpointSigner {
  readonly keyId: string;
  sign(checkpoint: CheckpointClaim): Buffer;
  /** True when `signature` is a valid signature of `checkpoint` by `keyId`, a key this service knows. */
  verify(checkpoint: CheckpointClaim, keyId: string, signature: Buffer): boolean;
}

export interface CheckpointClaim {
  readonly tenantId: string;
  readonly seq: number;
  readonly hash: Buffer;
  readonly signedAt: Date;
}

function message(claim: CheckpointClaim): Buffer {
  return Buffer.from(
    [
      'numezis.audit.checkpoint.v1',
      claim.tenantId,
      String(claim.seq),
      claim.hash.toString('hex'),
      claim.signedAt.toISOString(),
    ].join('\n'),
  );
}

export function createCheckpointSigner(key: SigningKey, olderKeys: VerifyKeys = new Map()): CheckpointSigner {
  const keys = new Map(olderKeys);
  keys.set(key.kid, createPublicKey(key.privateKey));
  return {
    keyId: key.kid,
    sign: (claim) => sign(null, message(claim), key.privateKey),
    verify: (claim, keyId, signature) => {
      const publicKey = keys.get(keyId);
      return publicKey !== undefined && signature.length === 64 && verify(null, message(claim), publicKey, signature);
    },
  };
}
