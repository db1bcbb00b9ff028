/**
 * The trusted context the gateway forwards to every subgraph, and the subgraph's check of it.
 *
 * Both ends of the contract live here, with one test, so they cannot drift apart. The token is a
 * compact JWS signed with Ed25519: subgraphs hold only public keys, so a compromised subgraph can
 * verify contexts but never mint one. Each token names one subgraph as its audience (a token
 * captured from one subgraph is useless at another), lives at most a minute, and carries a key id so
 * keys can rotate: subgraphs accept every key in CONTEXT_VERIFY_KEYS while the gateway signs with
 * the one in CONTEXT_SIGNING_KEY.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { parseRequestAccess } from './access-mode.ts';
import type { RequestAccess } from './access-mode.ts';

/** The header that carries the token from the gateway to a subgraph. */
export const contextHeader = 'x-numezis-context';

const tokenType = 'numezis-context+jws';
const issuer = 'numezis-gateway';
export const maxTokenLifetimeSeconds = 60;
const clockSkewSeconds = 5;

export type Actor =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly userId: string; readonly sessionId: string }
  /** A partner integration, acting in the one workspace and with the one role its key was made for. */
  | { readonly kind: 'apiKey'; readonly keyId: string };

export interface ForwardedContext {
  readonly requestId: string;
  readonly clientIp: string;
  readonly userAgent: string | null;
  readonly actor: Actor;
  /** Which data the request may see and what it may do there. */
  readonly access: RequestAccess;
  /** When the session last passed an MFA step, in epoch seconds; null if it never did. */
  readonly mfaAt: number | null;
  /** The workspace requires MFA and this session has not passed it: only enrolment is open. */
  readonly mfaRequired: boolean;
}

/** The context of a request from nobody in particular, acting in no workspace. */
export function anonymousContext(request: {
  requestId: string;
  clientIp: string;
  userAgent: string | null;
}): ForwardedContext {
  return {
    ...request,
    actor: { kind: 'anonymous' },
    access: { kind: 'anonymous' },
    mfaAt: null,
    mfaRequired: false,
  };
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export type VerifyKeys = ReadonlyMap<string, KeyObject>;

// DER prefixes that turn a raw 32-byte Ed25519 seed or public key into PKCS#8 / SPKI.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
const kidPattern = /^[A-Za-z0-9_-]{1,32}$/;

function decodeRawKey(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== text.replace(/=+$/, '')) {
    throw new Error(`${what} must be 32 bytes in base64url`);
  }
  return bytes;
}

function splitKid(entry: string, what: string): [string, string] {
  const separator = entry.indexOf(':');
  const kid = entry.slice(0, separator);
  if (separator < 1 || !kidPattern.test(kid)) {
    throw new Error(`${what} must look like "<key id>:<base64url key>"`);
  }
  return [kid, entry.slice(separator + 1)];
}

/** Parses `kid:base64url(32-byte Ed25519 seed)`. */
export function parseSigningKey(text: string): SigningKey {
  const [kid, encoded] = splitKid(text.trim(), 'the signing key');
  const seed = decodeRawKey(encoded, 'the signing key');
  const privateKey = createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { kid, privateKey };
}

/** Parses a comma-separated list of `kid:base64url(32-byte Ed25519 public key)`. */
export function parseVerifyKeys(text: string): VerifyKeys {
  const keys = new Map<string, KeyObject>();
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const [kid, encoded] = splitKid(entry, 'each verify key');
    if (keys.has(kid)) throw new Error(`key id "${kid}" appears twice`);
    const raw = decodeRawKey(encoded, `verify key "${kid}"`);
    keys.set(kid, createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' }));
  }
  if (keys.size === 0) throw new Error('at least one verify key is required');
  return keys;
}

/** A fresh key pair in the configuration format, for development, tests and key rotation. */
export function generateContextKeyPair(kid: string): { signingKey: string; verifyKey: string } {
  if (!kidPattern.test(kid)) throw new Error(`invalid key id "${kid}"`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(pkcs8Prefix.length);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  return { signingKey: `${kid}:${seed.toString('base64url')}`, verifyKey: `${kid}:${raw.toString('base64url')}` };
}

export interface ContextSigner {
  sign(context: ForwardedContext, audience: string): string;
}

export function createContextSigner(options: {
  key: SigningKey;
  clock: Clock;
  lifetimeSeconds?: number;
}): ContextSigner {
  const { key, clock, lifetimeSeconds = maxTokenLifetimeSeconds } = options;
  if (lifetimeSeconds <= 0 || lifetimeSeconds > maxTokenLifetimeSeconds) {
    throw new Error(`context lifetime must be 1..${maxTokenLifetimeSeconds} seconds`);
  }
  const header = encodeJson({ alg: 'EdDSA', typ: tokenType, kid: key.kid });
  return {
    sign(context, audience) {
      const iat = Math.floor(clock.now() / 1000);
      const payload = encodeJson({ iss: issuer, aud: audience, iat, exp: iat + lifetimeSeconds, ctx: context });
      const signingInput = `${header}.${payload}`;
      const signature = sign(null, Buffer.from(signingInput), key.privateKey).toString('base64url');
      return `${signingInput}.${signature}`;
    },
  };
}

/**
 * Memoises tokens per audience for one client request: the gateway signs at most once per subgraph
 * per request, however many fetches the query plan makes.
 */
export function requestTokenCache(signer: ContextSigner, context: ForwardedContext): (audience: string) => string {
  const tokens = new Map<string, string>();
  return (audience) => {
    let token = tokens.get(audience);
    if (token === undefined) {
      token = signer.sign(context, audience);
      tokens.set(audience, token);
    }
    return token;
  };
}

export type VerifyFailure =
  | 'missing'
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'bad-claims';

export type VerifyResult =
  { readonly ok: true; readonly context: ForwardedContext } | { readonly ok: false; readonly reason: VerifyFailure };

export interface ContextVerifier {
  verify(token: string | undefined): VerifyResult;
}

export function createContextVerifier(options: { keys: VerifyKeys; audience: string; clock: Clock }): ContextVerifier {
  const { keys, audience, clock } = options;
  const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });
  return {
    verify(token) {
      if (token === undefined || token === '') return fail('missing');
      const parts = token.split('.');
      if (parts.length !== 3) return fail('malformed');
      const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
      const header = decodeJson(encodedHeader);
      if (!isRecord(header) || header.alg !== 'EdDSA' || header.typ !== tokenType || typeof header.kid !== 'string') {
        return fail('malformed');
      }
      const key = keys.get(header.kid);
      if (key === undefined) return fail('unknown-key');
      const signature = Buffer.from(encodedSignature, 'base64url');
      if (signature.length !== 64 || !verify(null, Buffer.from(`${encodedHeader}.${encodedPayload}`), key, signature)) {
        return fail('bad-signature');
      }
      const claims = decodeJson(encodedPayload);
      if (!isRecord(claims)) return fail('malformed');
      if (claims.iss !== issuer) return fail('wrong-issuer');
      if (claims.aud !== audience) return fail('wrong-audience');
      const { iat, exp } = claims;
      if (typeof iat !== 'number' || typeof exp !== 'number') return fail('bad-claims');
      const now = Math.floor(clock.now() / 1000);
      if (exp - iat > maxTokenLifetimeSeconds) return fail('lifetime-too-long');
      if (iat > now + clockSkewSeconds) return fail('not-yet-valid');
      if (exp <= now - clockSkewSeconds) return fail('expired');
      const context = parseForwardedContext(claims.ctx);
      return context === null ? fail('bad-claims') : { ok: true, context };
    },
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

/** Strict shape check: a signed token with unexpected claims is refused, not half-trusted. */
function parseForwardedContext(value: unknown): ForwardedContext | null {
  if (!isRecord(value)) return null;
  const { requestId, clientIp, userAgent, actor, access, mfaAt, mfaRequired } = value;
  if (typeof requestId !== 'string' || requestId === '' || typeof clientIp !== 'string') return null;
  if (userAgent !== null && typeof userAgent !== 'string') return null;
  if (mfaAt !== null && typeof mfaAt !== 'number') return null;
  if (typeof mfaRequired !== 'boolean') return null;
  const parsedAccess = parseRequestAccess(access);
  if (parsedAccess === null || !isRecord(actor)) return null;
  let parsedActor: Actor;
  if (actor.kind === 'anonymous') parsedActor = { kind: 'anonymous' };
  else if (actor.kind === 'user' && isUuid(actor.userId) && isUuid(actor.sessionId)) {
    parsedActor = { kind: 'user', userId: actor.userId, sessionId: actor.sessionId };
  } else if (actor.kind === 'apiKey' && isUuid(actor.keyId)) {
    parsedActor = { kind: 'apiKey', keyId: actor.keyId };
  } else return null;
  // Only a signed-in person reads across a portfolio; nobody anonymous acts anywhere but anonymously.
  if ((parsedActor.kind === 'anonymous') !== (parsedAccess.kind === 'anonymous')) return null;
  if (parsedAccess.kind === 'portfolio' && parsedActor.kind !== 'user') return null;
  if (parsedActor.kind === 'apiKey' && parsedAccess.kind !== 'tenant') return null;
  return { requestId, clientIp, userAgent, actor: parsedActor, access: parsedAccess, mfaAt, mfaRequired };
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeJson(encoded: string): unknown {
  try {
    return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
