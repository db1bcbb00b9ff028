import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { generateContextKeyPair } from '../context/signed-context.ts';

export interface DevKeys {
  readonly CONTEXT_SIGNING_KEY: string;
  readonly CONTEXT_VERIFY_KEYS: string;
  /** Shared by the outbox relays, the gateway and the audit subgraph. */
  readonly AUDIT_INGEST_TOKEN: string;
  /** Signs the audit trail's checkpoints, so they still verify after a restart. */
  readonly AUDIT_CHECKPOINT_SIGNING_KEY: string;
}

/**
 * Development keys for `npm start`, kept beside the embedded databases so that sessions survive a
 * restart. Created on first start, readable only by their owner.
 */
export async function loadOrCreateDevKeys(file: string): Promise<DevKeys> {
  const existing = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as DevKeys)
    .catch(() => undefined);
  // Only the keys named here: a file from an older version may hold settings that no longer exist.
  if (existing?.AUDIT_INGEST_TOKEN !== undefined && existing.AUDIT_CHECKPOINT_SIGNING_KEY !== undefined) {
    return {
      CONTEXT_SIGNING_KEY: existing.CONTEXT_SIGNING_KEY,
      CONTEXT_VERIFY_KEYS: existing.CONTEXT_VERIFY_KEYS,
      AUDIT_INGEST_TOKEN: existing.AUDIT_INGEST_TOKEN,
      AUDIT_CHECKPOINT_SIGNING_KEY: existing.AUDIT_CHECKPOINT_SIGNING_KEY,
    };
  }
  // A file from before the audit trail keeps its context keys and gains the audit ones.
  const context =
    existing === undefined
      ? generateContextKeyPair('dev')
      : { signingKey: existing.CONTEXT_SIGNING_KEY, verifyKey: existing.CONTEXT_VERIFY_KEYS };
  const keys: DevKeys = {
    CONTEXT_SIGNING_KEY: context.signingKey,
    CONTEXT_VERIFY_KEYS: context.verifyKey,
    AUDIT_INGEST_TOKEN: randomBytes(32).toString('base64url'),
    AUDIT_CHECKPOINT_SIGNING_KEY: generateContextKeyPair('audit1').signingKey,
  };
  await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
