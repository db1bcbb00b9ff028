import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Key material that must never reach a log, an error or a serialised config: JSON, `util.inspect`
 * and string conversion all print `[redacted]`. The bytes live in a private field, which neither
 * `Object.keys`, `JSON.stringify` nor `util.inspect` can see, and leave only as a copy.
 */
export class Secret {
  readonly #bytes: Buffer;

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** A copy of the bytes; the caller should zero it once used. */
  reveal(): Buffer {
    return Buffer.from(this.#bytes);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret ${REDACTED}`;
  }
}

/**
 * Parses unpadded base64url of exactly `length` bytes. Node's decoder skips characters it does not
 * understand, so the text must also re-encode to itself.
 */
export function decodeBase64urlKey(text: string, length: number): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9_-]+$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, 'base64url');
  if (bytes.toString('base64url') !== trimmed || bytes.length !== length) return undefined;
  return bytes;
}
