import { readFile, writeFile } from 'node:fs/promises';
import { generateContextKeyPair } from '../context/signed-context.ts';

export interface DevKeys {
  readonly CONTEXT_SIGNING_KEY: string;
  readonly CONTEXT_VERIFY_KEYS: string;
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
  if (existing !== undefined) {
    return { CONTEXT_SIGNING_KEY: existing.CONTEXT_SIGNING_KEY, CONTEXT_VERIFY_KEYS: existing.CONTEXT_VERIFY_KEYS };
  }
  const context = generateContextKeyPair('dev');
  const keys: DevKeys = { CONTEXT_SIGNING_KEY: context.signingKey, CONTEXT_VERIFY_KEYS: context.verifyKey };
  await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
