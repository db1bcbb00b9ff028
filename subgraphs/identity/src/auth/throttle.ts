import { inArray, sql } from 'drizzle-orm';
import { clientError, ErrorCode } from '@numezis/runtime';
import type { Clock, DataAccess } from '@numezis/runtime';
import { authAttempts } from '../tables.ts';

export interface ThrottleRule {
  readonly maxFailures: number;
  readonly windowMs: number;
}

export interface ThrottleKey {
  readonly key: string;
  readonly rule: ThrottleRule;
}

/**
 * Brute-force protection: failures are counted per key in a fixed window; once a key reaches its
 * limit, every attempt is refused until the window ends, even one with the right secret, so a
 * guesser learns nothing from the answer. Counting happens before any secret is checked, and each
 * GraphQL alias of a mutation runs serially, so attempts packed into one request count one by one.
 */
export function createThrottle(dataAccess: DataAccess, clock: Clock) {
  return {
    async assertAllowed(keys: readonly ThrottleKey[]): Promise<void> {
      const now = clock.now();
      const rows = await dataAccess.unsafeUnscoped((tx) =>
        tx
          .select()
          .from(authAttempts)
          .where(
            inArray(
              authAttempts.key,
              keys.map((entry) => entry.key),
            ),
          ),
      );
      for (const { key, rule } of keys) {
        const row = rows.find((candidate) => candidate.key === key);
        if (row === undefined) continue;
        const windowEnds = row.windowStart.getTime() + rule.windowMs;
        if (windowEnds > now && row.failures >= rule.maxFailures) {
          throw clientError(ErrorCode.RATE_LIMITED, 'Too many failed attempts: try again later', {
            retryAfterSeconds: Math.ceil((windowEnds - now) / 1000),
          });
        }
      }
    },

    async recordFailure(keys: readonly ThrottleKey[]): Promise<void> {
      const now = new Date(clock.now());
      await dataAccess.unsafeUnscoped(async (tx) => {
        for (const { key, rule } of keys) {
          const windowOpenedAfter = new Date(now.getTime() - rule.windowMs);
          await tx
            .insert(authAttempts)
            .values({ key, windowStart: now, failures: 1 })
            .onConflictDoUpdate({
              target: authAttempts.key,
              set: {
                failures: sql`CASE WHEN ${authAttempts.windowStart} <= ${windowOpenedAfter} THEN 1 ELSE ${authAttempts.failures} + 1 END`,
                windowStart: sql`CASE WHEN ${authAttempts.windowStart} <= ${windowOpenedAfter} THEN ${now} ELSE ${authAttempts.windowStart} END`,
              },
            });
        }
      });
    },

    /** A success clears the account's count; an IP's count only expires. */
    async clear(keys: readonly string[]): Promise<void> {
      if (keys.length === 0) return;
      await dataAccess.unsafeUnscoped((tx) => tx.delete(authAttempts).where(inArray(authAttempts.key, [...keys])));
    },
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
