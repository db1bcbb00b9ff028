import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { generateContextKeyPair } from '../context/signed-context.ts';

export interface DevKeys {
  readonly CONTEXT_SIGNING_KEY: string;
  readonly CONTEXT_VERIFY_KEYS: string;
  readonly IDENTITY_SECRET_KEYS: string;
}

/**
 * Development keys for `npm start`, kept beside the embedded databases so that sessions and sealed
 * TOTP secrets survive a restart. Created on first start, readable only by their owner.
 */
export async function loadOrCreateDevKeys(file: string): Promise<DevKeys> {
  const existing = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as DevKeys)
    .catch(() => undefined);
  if (existing !== undefined) return existing;
  const context = generateContextKeyPair('dev');
  const keys: DevKeys = {
    CONTEXT_SIGNING_KEY: context.signingKey,
    CONTEXT_VERIFY_KEYS: context.verifyKey,
    IDENTITY_SECRET_KEYS: `dev:${randomBytes(32).toString('base64url')}`,
  };
  await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
