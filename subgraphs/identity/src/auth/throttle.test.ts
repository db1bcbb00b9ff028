import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { manualClock, openMigratedTestDatabase, openRedisState } from '@numezis/runtime';
import type { SharedState } from '@numezis/runtime';
import { migrationsDir } from '../paths.ts';
import { createSharedStateThrottle, createThrottle } from './throttle.ts';
import type { Throttle, ThrottleKey } from './throttle.ts';

// Both stores of the brute-force counters, against the real PostgreSQL (or PGlite) and Redis.
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rule = { maxFailures: 3, windowMs: 60_000 };

describe('brute-force throttle', () => {
  const clock = manualClock(Date.parse('2026-12-07T10:00:00Z'));
  let redis: SharedState;
  let close: () => Promise<void>;
  const stores: Record<string, Throttle> = {};

  before(async () => {
    const database = await openMigratedTestDatabase(process.env, 'identity', migrationsDir);
    close = database.close;
    redis = await openRedisState(redisUrl, 'identity-test');
    stores.postgres = createThrottle(database.dataAccess, clock);
    stores.redis = createSharedStateThrottle(redis);
  });
  after(async () => {
    await redis?.close();
    await close?.();
  });

  for (const store of ['postgres', 'redis']) {
    it(`${store}: refuses once a key used up its window, names the wait, and clears on success`, async () => {
      const throttle = stores[store];
      assert.ok(throttle !== undefined);
      const account: ThrottleKey = { key: `account:${randomUUID()}`, rule };
      const ip: ThrottleKey = { key: `ip:${randomUUID()}`, rule: { maxFailures: 10, windowMs: 60_000 } };
      for (let attempt = 0; attempt < 3; attempt++) {
        await throttle.assertAllowed([account, ip]);
        await throttle.recordFailure([account, ip]);
      }
      const refused = await throttle.assertAllowed([account, ip]).catch((error: unknown) => error);
      assert.ok(refused instanceof Error);
      const extensions = (refused as { extensions?: Record<string, unknown> }).extensions;
      assert.equal(extensions?.code, 'RATE_LIMITED');
      const wait = Number(extensions?.retryAfterSeconds);
      assert.ok(wait > 0 && wait <= 60, String(wait));
      // Another account from the same address is still allowed; clearing the account lifts its refusal.
      await throttle.assertAllowed([{ key: `account:${randomUUID()}`, rule }, ip]);
      await throttle.clear([account.key]);
      await throttle.assertAllowed([account, ip]);
    });
  }
});
