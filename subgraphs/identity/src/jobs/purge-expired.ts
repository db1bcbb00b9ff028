import { and, isNotNull, lt, or } from 'drizzle-orm';
import type { Clock, DataAccess, SystemAccess, SystemJob } from '@numezis/runtime';
import { authAttempts, emailVerifications, passwordResets, sessions, webauthnChallenges } from '../tables.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
/** Ended sessions stay listed this long, so a person can still see what signed them out. */
export const endedSessionRetentionMs = 30 * dayMs;

/**
 * Deletes what can never be used again: ended sessions after their retention, expired or used
 * one-time tokens and passkey challenges, and brute-force counters whose window closed. Nothing here
 * is tenant data, and none of these tables has row-level security: the job needs no tenant scope.
 */
export async function purgeExpired(
  access: SystemAccess,
  dataAccess: DataAccess,
  options: { clock: Clock; throttleWindowMs: number },
): Promise<{ affected: number }> {
  const now = options.clock.now();
  const at = (offsetMs: number) => new Date(now - offsetMs);
  return dataAccess.unsafeAsSystem(access, async (tx) => {
    const deleted = await Promise.all([
      tx
        .delete(sessions)
        .where(
          or(
            lt(sessions.expiresAt, at(endedSessionRetentionMs)),
            and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, at(endedSessionRetentionMs))),
          ),
        )
        .returning({ id: sessions.id }),
      tx
        .delete(emailVerifications)
        .where(lt(emailVerifications.expiresAt, at(0)))
        .returning({ id: emailVerifications.userId }),
      tx
        .delete(passwordResets)
        .where(lt(passwordResets.expiresAt, at(0)))
        .returning({ id: passwordResets.userId }),
      tx
        .delete(webauthnChallenges)
        .where(lt(webauthnChallenges.expiresAt, at(0)))
        .returning({ id: webauthnChallenges.purpose }),
      tx
        .delete(authAttempts)
        .where(lt(authAttempts.windowStart, at(options.throttleWindowMs)))
        .returning({ id: authAttempts.key }),
    ]);
    return { affected: deleted.reduce((sum, rows) => sum + rows.length, 0) };
  });
}

export function purgeExpiredJob(options: { clock: Clock; throttleWindowMs: number }): SystemJob {
  return {
    name: 'identity.purge-expired',
    everyMs: hourMs,
    run: (access, dataAccess) => purgeExpired(access, dataAccess, options),
  };
}
