import { inArray, sql } from 'drizzle-orm';
import { clientError, ErrorCode } from '@numezis/runtime';
import type { Clock, DataAccess, SharedState } from '@numezis/runtime';
import { authAttempts } from '../tables.ts';

export interface ThrottleRule {
  readonly maxFailures: number;
  readonly windowMs: number;
}

export interface ThrottleKey {
  readonly key: string;
  readonly rule: ThrottleRule;
}

export interface Throttle {
  /** Refuses with RATE_LIMITED (and retryAfterSeconds) when any key has used up its window. */
  assertAllowed(keys: readonly ThrottleKey[]): Promise<void>;
  recordFailure(keys: readonly ThrottleKey[]): Promise<void>;
  /** A success clears the account's count; an IP's count only expires. */
  clear(keys: readonly string[]): Promise<void>;
}

const refusal = (retryAfterMs: number) =>
  clientError(ErrorCode.RATE_LIMITED, 'Too many failed attempts: try again later', {
    retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
  });

/**
 * Brute-force protection: failures are counted per key in a fixed window; once a key reaches its
 * limit, every attempt is refused until the window ends, even one with the right secret, so a
 * guesser learns nothing from the answer. Counting happens before any secret is checked, and each
 * GraphQL alias of a mutation runs serially, so attempts packed into one request count one by one.
 */
export function createThrottle(dataAccess: DataAccess, clock: Clock): Throttle {
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
          throw refusal(windowEnds - now);
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

    async clear(keys: readonly string[]): Promise<void> {
      if (keys.length === 0) return;
      await dataAccess.unsafeUnscoped((tx) => tx.delete(authAttempts).where(inArray(authAttempts.key, [...keys])));
    },
  };
}

/**
 * The same counting in Redis (REDIS_URL): one atomic increment per failure, the window's expiry set
 * by the first, so every identity replica sees every failure at once without a database write.
 */
export function createSharedStateThrottle(state: SharedState): Throttle {
  const keyOf = (key: string) => `throttle:${key}`;
  return {
    async assertAllowed(keys) {
      for (const { key, rule } of keys) {
        const open = await state.peek(keyOf(key));
        if (open !== undefined && open.resetInMs > 0 && open.count >= rule.maxFailures) throw refusal(open.resetInMs);
      }
    },
    async recordFailure(keys) {
      for (const { key, rule } of keys) await state.hit(keyOf(key), rule.windowMs);
    },
    async clear(keys) {
      for (const key of keys) await state.delete(keyOf(key));
    },
  };
}
