import { createConfigReader, generateContextKeyPair, parseSigningKey, parseVerifyKeys } from '@numezis/runtime';
import type { Env, RuntimeEnvironment, SigningKey, VerifyKeys } from '@numezis/runtime';

export interface AuditSettings {
  /** AUDIT_CHECKPOINT_SIGNING_KEY: `kid:base64url(Ed25519 seed)`, signs the checkpoints. */
  readonly checkpointKey: SigningKey;
  /** AUDIT_CHECKPOINT_VERIFY_KEYS: public keys of earlier signing keys, for checkpoints they signed. */
  readonly olderCheckpointKeys: VerifyKeys;
  /** A checkpoint at least every this many events of a workspace ... */
  readonly checkpointEvery: number;
  /** ... and whenever a workspace's last one is older than this. */
  readonly checkpointIntervalMs: number;
  /** REDIS_URL: live events fan out through Redis to every replica's subscribers; in-process without it. */
  readonly redisUrl: string | null;
  /** How often the purge job runs. */
  readonly purgeIntervalMs: number;
  /** The most events one export may hold; a larger range is refused with a clear message. */
  readonly exportMaxEvents: number;
  /** Events sent to a subscriber between two of its acknowledgements: a slow reader never grows memory. */
  readonly subscriptionBufferEvents: number;
}

export function readAuditSettings(env: Env, environment: RuntimeEnvironment): AuditSettings {
  const reader = createConfigReader(env);
  const keyText = reader.string('AUDIT_CHECKPOINT_SIGNING_KEY');
  let checkpointKey: SigningKey | undefined;
  if (keyText === undefined) {
    if (environment === 'production')
      reader.problem('AUDIT_CHECKPOINT_SIGNING_KEY is required when NODE_ENV=production');
    // Development and tests without a configured key: checkpoints of this run verify in this run only.
    checkpointKey = parseSigningKey(generateContextKeyPair('ephemeral').signingKey);
  } else {
    try {
      checkpointKey = parseSigningKey(keyText);
    } catch (error) {
      reader.problem(`AUDIT_CHECKPOINT_SIGNING_KEY: ${(error as Error).message}`);
    }
  }
  const olderText = reader.string('AUDIT_CHECKPOINT_VERIFY_KEYS');
  let olderCheckpointKeys: VerifyKeys = new Map();
  if (olderText !== undefined) {
    try {
      olderCheckpointKeys = parseVerifyKeys(olderText);
    } catch (error) {
      reader.problem(`AUDIT_CHECKPOINT_VERIFY_KEYS: ${(error as Error).message}`);
    }
  }
  const redisUrl = reader.string('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\/\S+$/.test(redisUrl))
    reader.problem('REDIS_URL must be a redis:// or rediss:// URL');
  const settings = {
    checkpointKey: checkpointKey ?? parseSigningKey(generateContextKeyPair('unused').signingKey),
    olderCheckpointKeys,
    checkpointEvery: reader.int('AUDIT_CHECKPOINT_EVERY', 100, { min: 1, max: 100_000 }),
    checkpointIntervalMs: reader.int('AUDIT_CHECKPOINT_INTERVAL_MS', 60_000, { min: 0, max: 86_400_000 }),
    redisUrl,
    purgeIntervalMs: reader.int('AUDIT_PURGE_INTERVAL_MS', 3_600_000, { min: 1_000, max: 7 * 86_400_000 }),
    exportMaxEvents: reader.int('AUDIT_EXPORT_MAX_EVENTS', 10_000, { min: 1, max: 1_000_000 }),
    subscriptionBufferEvents: reader.int('AUDIT_SUBSCRIPTION_BUFFER_EVENTS', 1_000, { min: 10, max: 100_000 }),
  };
  // KeyObjects do not survive the reader's deep freeze intact; the rest does.
  const { checkpointKey: key, olderCheckpointKeys: older, ...rest } = settings;
  return { ...reader.finish(rest), checkpointKey: key, olderCheckpointKeys: older };
}
