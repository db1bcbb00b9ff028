import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Tx } from '@numezis/runtime';
import { webauthnChallenges } from '../tables.ts';

export type ChallengePurpose = 'REGISTER' | 'AUTHENTICATE';

/** Long enough for a person to touch their authenticator, short enough to make a leaked one useless. */
export const challengeTtlMs = 2 * 60_000;

export interface IssuedChallenge {
  /** 32 random bytes, handed to the browser inside the options. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly purpose: ChallengePurpose;
  readonly expiresAt: Date;
}

export interface ConsumedChallenge {
  /** As the browser signed it (base64url), for the WebAuthn library's own comparison. */
  readonly challenge: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
}

/** Which challenges a ceremony may use: only ones asked for by this session, or unbound ones too. */
export interface ChallengeBinding {
  readonly purpose: ChallengePurpose;
  readonly userId?: string;
  readonly sessionId: string | null;
  readonly allowUnbound: boolean;
}

const hashOf = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

export async function issueChallenge(
  tx: Tx,
  options: { purpose: ChallengePurpose; userId: string | null; sessionId: string | null; now: number },
): Promise<IssuedChallenge> {
  const bytes = new Uint8Array(randomBytes(32));
  const now = new Date(options.now);
  const expiresAt = new Date(options.now + challengeTtlMs);
  // Anyone may ask for a sign-in challenge, so expired ones are swept here rather than left to pile up.
  await tx.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, now));
  await tx.insert(webauthnChallenges).values({
    challengeHash: hashOf(bytes),
    userId: options.userId,
    sessionId: options.sessionId,
    purpose: options.purpose,
    createdAt: now,
    expiresAt,
  });
  return { bytes, purpose: options.purpose, expiresAt };
}

/**
 * Marks a live challenge used and returns it, or null when it is unknown, used, expired, for another
 * purpose or bound to another session. The update is conditional, so of two requests racing with
 * the same challenge only one gets it; it happens before the response is verified, so a challenge
 * is spent even by a failed attempt.
 */
export async function consumeChallenge(
  tx: Tx,
  challenge: string,
  binding: ChallengeBinding,
  now: number,
): Promise<ConsumedChallenge | null> {
  const bytes = decodeChallenge(challenge);
  if (bytes === null) return null;
  const sessionMatches: SQL[] = [];
  if (binding.sessionId !== null) sessionMatches.push(eq(webauthnChallenges.sessionId, binding.sessionId));
  if (binding.allowUnbound) sessionMatches.push(isNull(webauthnChallenges.sessionId));
  if (sessionMatches.length === 0) return null;
  const [row] = await tx
    .update(webauthnChallenges)
    .set({ usedAt: new Date(now) })
    .where(
      and(
        eq(webauthnChallenges.challengeHash, hashOf(bytes)),
        eq(webauthnChallenges.purpose, binding.purpose),
        isNull(webauthnChallenges.usedAt),
        gt(webauthnChallenges.expiresAt, new Date(now)),
        binding.userId === undefined ? undefined : eq(webauthnChallenges.userId, binding.userId),
        or(...sessionMatches),
      ),
    )
    .returning({ userId: webauthnChallenges.userId, sessionId: webauthnChallenges.sessionId });
  return row === undefined ? null : { challenge, ...row };
}

/** The challenge the browser signed, read from a response's clientDataJSON; null when malformed. */
export function challengeFromClientData(clientDataJSON: string): string | null {
  const bytes = decodeBase64Url(clientDataJSON);
  if (bytes === null) return null;
  try {
    const clientData: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof clientData !== 'object' || clientData === null) return null;
    const { challenge } = clientData as { challenge?: unknown };
    return typeof challenge === 'string' && decodeChallenge(challenge) !== null ? challenge : null;
  } catch {
    return null;
  }
}

function decodeChallenge(challenge: string): Buffer | null {
  const bytes = decodeBase64Url(challenge);
  return bytes !== null && bytes.length === 32 ? bytes : null;
}

// Node's decoder skips characters it does not understand; only the canonical unpadded form counts.
function decodeBase64Url(text: string): Buffer | null {
  const unpadded = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(unpadded)) return null;
  const bytes = Buffer.from(unpadded, 'base64url');
  return bytes.toString('base64url') === unpadded ? bytes : null;
}
