import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUsable } from './sessions.ts';
import type { SessionRow } from '../tables.ts';

const policy = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
const signedInAt = Date.parse('2026-11-25T08:00:00Z');

function session(changes: Partial<SessionRow> = {}): SessionRow {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    userId: '00000000-0000-4000-8000-000000000002',
    tokenHash: Buffer.alloc(32),
    activeWorkspaceId: null,
    authenticatedWith: 'PASSWORD',
    mfaAt: null,
    createdAt: new Date(signedInAt),
    lastSeenAt: new Date(signedInAt),
    expiresAt: new Date(signedInAt + policy.absoluteMs),
    revokedAt: null,
    ip: '127.0.0.1',
    userAgent: null,
    ...changes,
  };
}

describe('session lifetime', () => {
  it('ends after the idle timeout without use', () => {
    assert.equal(isUsable(session(), signedInAt + policy.idleMs - 1, policy), true);
    assert.equal(isUsable(session(), signedInAt + policy.idleMs, policy), false);
  });

  it('stays while in use, but never past the absolute timeout', () => {
    const busy = (at: number) => session({ lastSeenAt: new Date(at - 60_000) });
    assert.equal(isUsable(busy(signedInAt + policy.absoluteMs - 1), signedInAt + policy.absoluteMs - 1, policy), true);
    assert.equal(isUsable(busy(signedInAt + policy.absoluteMs), signedInAt + policy.absoluteMs, policy), false);
  });

  it('ends at once when revoked', () => {
    assert.equal(isUsable(session({ revokedAt: new Date(signedInAt + 1) }), signedInAt + 2, policy), false);
  });
});
