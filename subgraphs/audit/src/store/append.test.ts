import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import {
  generateContextKeyPair,
  openMigratedTestDatabase,
  parseSigningKey,
  systemAccess,
  systemClock,
} from '@numezis/runtime';
import type { AuditEvent, DataAccess } from '@numezis/runtime';
import { createCheckpointSigner } from '../chain/checkpoint-signer.ts';
import { verifyChain } from '../chain/verify-chain.ts';
import { migrationsDir } from '../paths.ts';
import { purgeJob } from '../retention/purge-job.ts';
import { auditEvents, checkpoints, legalHolds, purgedEvents, workspaceTerms } from '../tables.ts';
import { accountTrail, appendEvents } from './append.ts';
import type { ChainSettings } from './append.ts';

const settings: ChainSettings = {
  signer: createCheckpointSigner(parseSigningKey(generateContextKeyPair('t1').signingKey)),
  clock: systemClock,
  checkpointEvery: 3,
  checkpointIntervalMs: 3_600_000,
};

function event(tenantId: string | null, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    tenantId,
    source: 'accounting',
    action: 'ledger.entry_posted',
    retention: 'accounting',
    actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID(), mfa: true },
    targets: [{ type: 'JournalEntry', id: randomUUID() }],
    before: null,
    after: { amount: '12.50', currency: 'CHF' },
    outcome: 'success',
    reason: null,
    requestId: randomUUID(),
    ip: '203.0.113.7',
    userAgent: 'test',
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('audit store: append, chain, purge', () => {
  let dataAccess: DataAccess;
  let close: () => Promise<void>;
  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, 'audit', migrationsDir));
  });
  after(() => close());

  const verify = (tenantId: string) => dataAccess.inTenant(tenantId, (tx) => verifyChain(tx, settings.signer));

  it('numbers each workspace from 1, appends each id once, and the chain verifies', async () => {
    const alpha = randomUUID();
    const beta = randomUUID();
    const first = [
      event(alpha),
      event(beta),
      event(alpha),
      event(null, { source: 'identity', action: 'auth.signed_in' }),
    ];
    const stored = await appendEvents(dataAccess, first, settings);
    assert.deepEqual(
      stored.get(alpha)?.map((row) => row.seq),
      [1, 2],
    );
    assert.deepEqual(
      stored.get(beta)?.map((row) => row.seq),
      [1],
    );
    assert.ok((stored.get(accountTrail)?.length ?? 0) >= 1);
    // Redelivery of the whole batch plus one new event: only the new one is stored.
    const again = await appendEvents(dataAccess, [...first, event(alpha)], settings);
    assert.deepEqual(
      again.get(alpha)?.map((row) => row.seq),
      [3],
    );
    assert.equal(again.get(beta)?.length, 0);
    const result = await verify(alpha);
    assert.equal(result.valid, true, result.problem ?? '');
    assert.equal(result.lastSequence, 3);
    // A checkpoint with the first batch and one when the sequence reached 3.
    assert.equal(result.checkpointsVerified, 2);
  });

  it('refuses to let the application role rewrite or delete an event', async () => {
    const tenantId = randomUUID();
    await appendEvents(dataAccess, [event(tenantId)], settings);
    await assert.rejects(
      dataAccess.inTenant(tenantId, (tx) => tx.update(auditEvents).set({ action: 'ledger.nothing' })),
      (error: Error) => /append-only|permission denied/.test(`${error.message} ${String(error.cause)}`),
    );
    await assert.rejects(
      dataAccess.inTenant(tenantId, (tx) => tx.execute(sql`delete from audit.audit_events`)),
      (error: Error) => /purge job|permission denied/.test(`${error.message} ${String(error.cause)}`),
    );
    await assert.rejects(
      dataAccess.inTenant(tenantId, (tx) => tx.delete(checkpoints)),
      (error: Error) => /append-only|permission denied/.test(`${error.message} ${String(error.cause)}`),
    );
    assert.equal((await verify(tenantId)).lastSequence, 1);
  });

  it('purges only expired events of a workspace without a hold, and the chain still verifies', async () => {
    const tenantId = randomUUID();
    const old = new Date('2010-03-01T00:00:00Z').toISOString();
    await appendEvents(
      dataAccess,
      [
        event(tenantId, {
          source: 'identity',
          action: 'workspace.created',
          retention: 'standard',
          occurredAt: old,
          after: { fiscalYearStartMonth: 1, subscriptionEndsAt: '2015-01-01T00:00:00Z' },
        }),
        event(tenantId, { occurredAt: old }),
        // Ten years after the end of 2030 is still to come: it stays.
        event(tenantId, { occurredAt: new Date('2030-06-01T00:00:00Z').toISOString() }),
        event(tenantId, { occurredAt: old, retention: 'standard', action: 'contact.created' }),
      ],
      settings,
    );
    const job = purgeJob(settings, 60_000, async () => undefined);
    await dataAccess.inTenant(tenantId, (tx) =>
      tx.insert(legalHolds).values({ tenantId, id: randomUUID(), reason: 'court order 2026/17', placedAt: new Date() }),
    );
    await job.run(systemAccess('audit.purge'), dataAccess);
    assert.equal((await verify(tenantId)).purgedEvents, 0, 'nothing goes while a hold is open');

    await dataAccess.inTenant(tenantId, (tx) => tx.update(legalHolds).set({ releasedAt: new Date() }));
    await job.run(systemAccess('audit.purge'), dataAccess);
    const rows = await dataAccess.inTenant(tenantId, (tx) => tx.select().from(auditEvents).orderBy(auditEvents.seq));
    assert.deepEqual(
      rows.map((row) => [row.seq, row.action]),
      [
        [3, 'ledger.entry_posted'],
        [5, 'audit.purged'],
      ],
    );
    assert.deepEqual(JSON.parse(JSON.stringify(rows[1]?.after)), {
      purgedCount: 3,
      purgedSequences: [
        [1, 2],
        [4, 4],
      ],
    });
    const result = await verify(tenantId);
    assert.equal(result.valid, true, result.problem ?? '');
    assert.equal(result.purgedEvents, 3);
    const terms = await dataAccess.inTenant(tenantId, (tx) => tx.select().from(workspaceTerms));
    assert.equal(terms[0]?.subscriptionEndsAt?.toISOString(), '2015-01-01T00:00:00.000Z');
    const tombstones = await dataAccess.inTenant(tenantId, (tx) => tx.select().from(purgedEvents));
    assert.equal(tombstones.length, 3);
  });
});
