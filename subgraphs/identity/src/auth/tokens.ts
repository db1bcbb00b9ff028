import { createHash, randomBytes } from 'node:crypto';

/** A secret for a cookie or an emailed link: 256 random bits. Only its hash is ever stored. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** An API key: a recognisable prefix (for secret scanners) and 256 random bits. */
export const apiKeyPrefix = 'nmz_';
export function newApiKey(): string {
  return `${apiKeyPrefix}${newSecretToken()}`;
}

export function isWellFormedApiKey(key: string): boolean {
  return key.startsWith(apiKeyPrefix) && isWellFormedToken(key.slice(apiKeyPrefix.length));
}

/** Tokens we issued are 43 base64url characters; anything else is not worth a database lookup. */
export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

export function normaliseEmail(email: string): string | null {
  const trimmed = email.trim().toLowerCase();
  return trimmed.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed) ? trimmed : null;
}
