import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inArray } from 'drizzle-orm';
import { openMigratedTestDatabase, manualClock, systemAccess } from '@numezis/runtime';
import type { DataAccess } from '@numezis/runtime';
import { migrationsDir } from '../paths.ts';
import { authAttempts, passwordResets, sessions, users, webauthnChallenges } from '../tables.ts';
import { endedSessionRetentionMs, purgeExpired } from './purge-expired.ts';

const dayMs = 24 * 3_600_000;

describe('system job: purge what has expired', () => {
  let close: () => Promise<void>;
  let dataAccess: DataAccess;
  const clock = manualClock(Date.parse('2026-11-25T08:00:00Z'));
  const at = (offsetMs: number) => new Date(clock.now() + offsetMs);

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, 'identity', migrationsDir));
  });
  after(() => close());

  it('deletes ended sessions after their retention, used-up tokens and closed throttle windows, and nothing else', async () => {
    const userId = randomUUID();
    const session = (id: string, expiresAt: Date, revokedAt: Date | null = null) => ({
      id,
      userId,
      tokenHash: randomBytes(32),
      authenticatedWith: 'PASSWORD' as const,
      createdAt: at(-60 * dayMs),
      lastSeenAt: at(-60 * dayMs),
      expiresAt,
      revokedAt,
    });
    const ids = { old: randomUUID(), recent: randomUUID(), revokedLongAgo: randomUUID(), live: randomUUID() };
    const keys = { closed: `ip:${randomUUID()}`, open: `ip:${randomUUID()}` };
    const resets = { expired: randomBytes(32), valid: randomBytes(32) };
    const challenges = { expired: randomBytes(32), valid: randomBytes(32) };
    await dataAccess.unsafeUnscoped(async (tx) => {
      await tx.insert(users).values({ id: userId, displayName: 'Test', email: `${userId}@example.ch` });
      await tx
        .insert(sessions)
        .values([
          session(ids.old, at(-endedSessionRetentionMs - 1)),
          session(ids.recent, at(-dayMs)),
          session(ids.revokedLongAgo, at(dayMs), at(-endedSessionRetentionMs - 1)),
          session(ids.live, at(dayMs)),
        ]);
      await tx.insert(authAttempts).values([
        { key: keys.closed, windowStart: at(-16 * 60_000), failures: 3 },
        { key: keys.open, windowStart: at(-60_000), failures: 3 },
      ]);
      await tx.insert(passwordResets).values([
        { tokenHash: resets.expired, userId, expiresAt: at(-1) },
        { tokenHash: resets.valid, userId, expiresAt: at(60_000) },
      ]);
      await tx.insert(webauthnChallenges).values([
        { challengeHash: challenges.expired, purpose: 'AUTHENTICATE', createdAt: at(-180_000), expiresAt: at(-60_000) },
        { challengeHash: challenges.valid, purpose: 'AUTHENTICATE', createdAt: at(0), expiresAt: at(120_000) },
      ]);
    });

    const { affected } = await purgeExpired(systemAccess('identity.purge-expired'), dataAccess, {
      clock,
      throttleWindowMs: 15 * 60_000,
    });

    const left = await dataAccess.unsafeUnscoped(async (tx) => ({
      sessions: (
        await tx
          .select({ id: sessions.id })
          .from(sessions)
          .where(inArray(sessions.id, Object.values(ids)))
      ).map((row) => row.id),
      attempts: (
        await tx
          .select({ key: authAttempts.key })
          .from(authAttempts)
          .where(inArray(authAttempts.key, Object.values(keys)))
      ).map((row) => row.key),
      resets: (
        await tx
          .select({ hash: passwordResets.tokenHash })
          .from(passwordResets)
          .where(inArray(passwordResets.tokenHash, Object.values(resets)))
      ).length,
      challenges: (
        await tx
          .select({ hash: webauthnChallenges.challengeHash })
          .from(webauthnChallenges)
          .where(inArray(webauthnChallenges.challengeHash, Object.values(challenges)))
      ).length,
    }));
    assert.deepEqual(left.sessions.sort(), [ids.recent, ids.live].sort());
    assert.deepEqual(left.attempts, [keys.open]);
    assert.equal(left.resets, 1);
    assert.equal(left.challenges, 1);
    assert.ok(affected >= 5, `affected ${affected}`);
  });
});
