/**
 * One-time passwords for second-factor sign-in: RFC 4226 (HOTP) and RFC 6238 (TOTP).
 * Pure functions over node:crypto; time always comes from a Clock so tests never sleep.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type TotpDigits = 6 | 8;

export interface TotpOptions {
  /** HMAC hash; SHA1 is what nearly every authenticator app assumes. */
  algorithm?: TotpAlgorithm;
  digits?: TotpDigits;
  /** Step length in seconds. */
  period?: number;
}

export interface VerifyTotpOptions extends TotpOptions {
  clock: Clock;
  /** The step of the last code this secret accepted, or null if it never accepted one. */
  lastUsedStep: number | null;
}

export type VerifyTotpResult = { ok: true; step: number } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

export interface OtpauthUriInput extends TotpOptions {
  secret: Buffer;
  accountName: string;
  issuer: string;
}

const DEFAULT_ALGORITHM: TotpAlgorithm = 'SHA1';
const DEFAULT_DIGITS: TotpDigits = 6;
const DEFAULT_PERIOD = 30;
/** RFC 4226 recommends 160-bit secrets, the HMAC-SHA1 output size. */
const SECRET_BYTES = 20;

const HASH_NAMES: Record<TotpAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateTotpSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

/** RFC 4648 base32, uppercase and unpadded: the form authenticator apps expect in otpauth URIs. */
export function base32Encode(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET.charAt((value << (5 - bits)) & 31);
  return out;
}

/** Lenient about what people type or paste (case, spaces, padding) but never guesses at other characters. */
export function base32Decode(text: string): Buffer {
  const cleaned = text.replace(/\s+/g, '').toUpperCase().replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of cleaned) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index === -1) throw new Error(`Invalid base32 character: ${JSON.stringify(char)}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // A length of 1, 3 or 6 mod 8 cannot come from any encoder: the secret was cut short while copying.
  if ([1, 3, 6].includes(cleaned.length % 8)) throw new Error('Invalid base32: truncated input');
  return Buffer.from(out);
}

/** RFC 4226 HOTP for an explicit counter. */
export function hotpCode(secret: Uint8Array, counter: number, options: Omit<TotpOptions, 'period'> = {}): string {
  const algorithm = checkAlgorithm(options.algorithm ?? DEFAULT_ALGORITHM);
  const digits = checkDigits(options.digits ?? DEFAULT_DIGITS);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`Invalid HOTP counter: ${counter}`);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(HASH_NAMES[algorithm], secret).update(message).digest();
  // Dynamic truncation (RFC 4226 §5.3): the low nibble of the last byte picks where to read 31 bits.
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The TOTP code for one time step: HOTP with the step number as the counter (RFC 6238 §4.2). */
export function totpCode(secret: Uint8Array, step: number, options: TotpOptions = {}): string {
  return hotpCode(secret, step, options);
}

export function currentStep(clock: Clock, period: number = DEFAULT_PERIOD): number {
  checkPeriod(period);
  return Math.floor(clock.now() / (period * 1000));
}

/**
 * Accepts the current step and the one before it only: the previous step forgives a code typed just as it
 * rolled over, while future steps would only widen the window for a stolen or phished code. Matching a
 * step at or before lastUsedStep is refused so each code, and anything older, works at most once; the
 * caller stores the returned step as the new lastUsedStep.
 */
export function verifyTotp(secret: Uint8Array, code: string, options: VerifyTotpOptions): VerifyTotpResult {
  const algorithm = checkAlgorithm(options.algorithm ?? DEFAULT_ALGORITHM);
  const digits = checkDigits(options.digits ?? DEFAULT_DIGITS);
  const period = options.period ?? DEFAULT_PERIOD;
  // [0-9] rather than \d so that only ASCII digits pass, whatever the regex flags.
  if (typeof code !== 'string' || !new RegExp(`^[0-9]{${digits}}$`).test(code)) {
    return { ok: false, reason: 'malformed' };
  }
  const now = currentStep(options.clock, period);
  const given = Buffer.from(code, 'ascii');
  let matched: number | null = null;
  let replayed = false;
  // Both candidates are always computed and compared so the timing does not reveal which one matched.
  for (const step of [now, now - 1]) {
    if (step < 0) continue;
    const expected = Buffer.from(totpCode(secret, step, { algorithm, digits }), 'ascii');
    if (!timingSafeEqual(expected, given)) continue;
    if (options.lastUsedStep !== null && step <= options.lastUsedStep) replayed = true;
    else if (matched === null) matched = step;
  }
  if (matched !== null) return { ok: true, step: matched };
  return { ok: false, reason: replayed ? 'replayed' : 'invalid' };
}

/** Key URI for QR enrolment (Google Authenticator key-uri format), with every parameter spelled out. */
export function otpauthUri(input: OtpauthUriInput): string {
  const algorithm = checkAlgorithm(input.algorithm ?? DEFAULT_ALGORITHM);
  const digits = checkDigits(input.digits ?? DEFAULT_DIGITS);
  const period = checkPeriod(input.period ?? DEFAULT_PERIOD);
  // The issuer prefix keeps accounts from different services apart; encodeURIComponent also escapes ':'
  // so neither part can fake the separator.
  const issuer = encodeURIComponent(input.issuer);
  const label = `${issuer}:${encodeURIComponent(input.accountName)}`;
  const secret = base32Encode(input.secret);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${issuer}&algorithm=${algorithm}&digits=${digits}&period=${period}`;
}

// Runtime checks as well as types: options may come from stored enrolment rows rather than literals.
function checkAlgorithm(algorithm: TotpAlgorithm): TotpAlgorithm {
  if (!Object.hasOwn(HASH_NAMES, algorithm)) throw new RangeError(`Unsupported TOTP algorithm: ${String(algorithm)}`);
  return algorithm;
}

function checkDigits(digits: TotpDigits): TotpDigits {
  if (digits !== 6 && digits !== 8) throw new RangeError(`Unsupported TOTP digits: ${String(digits)}`);
  return digits;
}

function checkPeriod(period: number): number {
  if (!Number.isSafeInteger(period) || period <= 0) throw new RangeError(`Invalid TOTP period: ${period}`);
  return period;
}
