import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export interface PasswordHashParams {
  /** Memory cost in KiB. */
  readonly memory: number;
  /** Number of passes (time cost). */
  readonly passes: number;
  readonly parallelism: number;
  /** Length of the derived hash in bytes. */
  readonly tagLength: number;
}

// OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
export const DEFAULT_PASSWORD_HASH_PARAMS: PasswordHashParams = Object.freeze({
  memory: 19_456,
  passes: 2,
  parallelism: 1,
  tagLength: 32,
});

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

const ARGON2_VERSION = 19;
const SALT_LENGTH = 16;

// Upper bounds apply to stored hashes too: a tampered or corrupt row must not be able to make a
// sign-in allocate gigabytes or pin a thread-pool worker for minutes.
const LIMITS = {
  memory: { min: 8, max: 1_048_576 },
  passes: { min: 1, max: 64 },
  parallelism: { min: 1, max: 64 },
  tagLength: { min: 16, max: 64 },
  saltLength: { min: 8, max: 64 },
} as const;

interface ParsedHash {
  readonly params: PasswordHashParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function inRange(value: number, limit: { readonly min: number; readonly max: number }): boolean {
  return Number.isSafeInteger(value) && value >= limit.min && value <= limit.max;
}

function paramsAreValid(params: PasswordHashParams): boolean {
  return (
    inRange(params.memory, LIMITS.memory) &&
    inRange(params.passes, LIMITS.passes) &&
    inRange(params.parallelism, LIMITS.parallelism) &&
    inRange(params.tagLength, LIMITS.tagLength) &&
    // argon2 needs at least 8 blocks per lane.
    params.memory >= 8 * params.parallelism
  );
}

function assertValidParams(params: PasswordHashParams): void {
  if (!paramsAreValid(params)) {
    throw new Error(
      `invalid argon2id parameters: memory ${LIMITS.memory.min}-${LIMITS.memory.max} KiB and >= 8 * parallelism, ` +
        `passes ${LIMITS.passes.min}-${LIMITS.passes.max}, parallelism ${LIMITS.parallelism.min}-${LIMITS.parallelism.max}, ` +
        `tagLength ${LIMITS.tagLength.min}-${LIMITS.tagLength.max} bytes`,
    );
  }
}

function deriveHash(password: string, salt: Buffer, params: PasswordHashParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: password,
        nonce: salt,
        parallelism: params.parallelism,
        tagLength: params.tagLength,
        memory: params.memory,
        passes: params.passes,
      },
      (error, derived) => (error ? reject(error) : resolve(derived)),
    );
  });
}

function encodeB64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

// Node's base64 decoder skips characters it does not understand; re-encoding rejects anything
// that is not the canonical unpadded form.
function decodeB64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return encodeB64(bytes) === text ? bytes : null;
}

function formatPhc(params: PasswordHashParams, salt: Buffer, hash: Buffer): string {
  return (
    `$argon2id$v=${ARGON2_VERSION}$m=${params.memory},t=${params.passes},p=${params.parallelism}` +
    `$${encodeB64(salt)}$${encodeB64(hash)}`
  );
}

const PHC_PATTERN =
  /^\$argon2id\$v=(\d{1,10})\$m=([1-9]\d{0,9}),t=([1-9]\d{0,9}),p=([1-9]\d{0,9})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parsePhc(phc: string): ParsedHash | null {
  const match = PHC_PATTERN.exec(phc);
  if (!match) return null;
  const [, version, memory, passes, parallelism, saltText, hashText] = match;
  if (Number(version) !== ARGON2_VERSION || saltText === undefined || hashText === undefined) return null;
  const salt = decodeB64(saltText);
  const hash = decodeB64(hashText);
  if (!salt || !hash || !inRange(salt.length, LIMITS.saltLength)) return null;
  const params: PasswordHashParams = {
    memory: Number(memory),
    passes: Number(passes),
    parallelism: Number(parallelism),
    tagLength: hash.length,
  };
  return paramsAreValid(params) ? { params, salt, hash } : null;
}

export async function hashPassword(
  password: string,
  params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS,
): Promise<string> {
  assertValidParams(params);
  const salt = randomBytes(SALT_LENGTH);
  const hash = await deriveHash(password, salt, params);
  return formatPhc(params, salt, hash);
}

async function matches(password: string, parsed: ParsedHash): Promise<boolean> {
  let candidate: Buffer;
  try {
    candidate = await deriveHash(password, parsed.salt, parsed.params);
  } catch {
    return false;
  }
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** Parameters come from the stored string, so hashes made before a parameter change keep verifying. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parsePhc(phc);
  if (!parsed) return false;
  return matches(password, parsed);
}

/** True when the stored hash should be replaced (after a successful sign-in) by one made with `params`. */
export function needsRehash(phc: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS): boolean {
  const parsed = parsePhc(phc);
  if (!parsed) return true;
  return (
    parsed.salt.length !== SALT_LENGTH ||
    parsed.params.memory !== params.memory ||
    parsed.params.passes !== params.passes ||
    parsed.params.parallelism !== params.parallelism ||
    parsed.params.tagLength !== params.tagLength
  );
}

/**
 * Costs the same as `verifyPassword` against a hash made with `params`, and never matches. Call it
 * when no account exists for an email, so response time does not reveal which emails are registered.
 */
export async function verifyAgainstDummy(
  password: string,
  params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS,
): Promise<false> {
  assertValidParams(params);
  // Random salt and hash make a dummy no password can match; argon2 costs the same either way.
  const dummy: ParsedHash = { params, salt: randomBytes(SALT_LENGTH), hash: randomBytes(params.tagLength) };
  await matches(password, dummy);
  return false;
}

/** Returns a message for the user when the password is unacceptable, else null. */
export function validatePasswordPolicy(password: string): string | null {
  // Count code points, not UTF-16 units, so an emoji counts as one character.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.`;
  if (length > PASSWORD_MAX_LENGTH) return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`;
  return null;
}
