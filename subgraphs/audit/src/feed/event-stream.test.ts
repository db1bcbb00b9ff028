import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { memoryPubSub, openRedisPubSub } from '@numezis/runtime';
import type { PubSub } from '@numezis/runtime';
import type { AuditEventView } from '../store/event-view.ts';
import { createAuditFeed } from './audit-feed.ts';
import { openEventStream } from './event-stream.ts';

const log = { warn: () => undefined };

function view(tenantId: string, sequence: number): AuditEventView {
  return {
    tenantId,
    id: randomUUID(),
    sequence,
    action: 'ledger.entry_posted',
    source: 'accounting',
    outcome: 'SUCCESS',
    reason: null,
    occurredAt: new Date().toISOString(),
    recordedAt: new Date().toISOString(),
    actorUserId: null,
    performedBy: { kind: 'ANONYMOUS', id: null, sessionId: null, mfa: null },
    targets: [],
    before: null,
    after: null,
    requestId: null,
    ip: null,
    userAgent: null,
    retention: 'ACCOUNTING',
    statutoryUntil: null,
    hash: '00',
  };
}

/** A workspace's trail in memory: what the database would answer the stream. */
function trail(tenantId: string) {
  const events: AuditEventView[] = [];
  return {
    events,
    append: (count: number) => {
      const added = Array.from({ length: count }, (_, index) => view(tenantId, events.length + index + 1));
      events.push(...added);
      return added;
    },
    load: async (after: number, limit: number) => events.filter((event) => event.sequence > after).slice(0, limit),
    head: async () => events.length,
  };
}

async function take(stream: AsyncIterableIterator<AuditEventView>, count: number): Promise<number[]> {
  const sequences: number[] = [];
  while (sequences.length < count) {
    const next = await stream.next();
    assert.equal(next.done, false);
    sequences.push(next.value.sequence);
  }
  return sequences;
}

describe('audit event stream', () => {
  it('catches up from the database, then goes live, each sequence number once and in order', async () => {
    const tenantId = randomUUID();
    const stored = trail(tenantId);
    const feed = createAuditFeed(memoryPubSub(), log);
    stored.append(250);
    const stream = await openEventStream({ tenantId, afterSequence: 5, feed, bufferLimit: 100, ...stored });
    assert.deepEqual(
      await take(stream, 245),
      Array.from({ length: 245 }, (_, index) => index + 6),
    );
    // Live: published once stored; a duplicate and an old event are dropped.
    const live = stored.append(2);
    await feed.publish(tenantId, live);
    await feed.publish(tenantId, [live[1] as AuditEventView, view(tenantId, 3)]);
    assert.deepEqual(await take(stream, 2), [251, 252]);
    // A missed message: the next live event reveals the gap, which is read from the database.
    stored.append(2);
    const later = stored.append(1);
    await feed.publish(tenantId, later);
    assert.deepEqual(await take(stream, 3), [253, 254, 255]);
    await stream.return?.();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  it('ends at once when the subscriber leaves while waiting for events', async () => {
    const tenantId = randomUUID();
    const stream = await openEventStream({
      tenantId,
      afterSequence: null,
      feed: createAuditFeed(memoryPubSub(), log),
      bufferLimit: 10,
      ...trail(tenantId),
    });
    const waiting = stream.next();
    await stream.return?.();
    assert.deepEqual(await waiting, { done: true, value: undefined });
  });
});

describe('audit feed through Redis', () => {
  const connections: PubSub[] = [];
  after(() => Promise.all(connections.map((connection) => connection.close())));

  it('tells a subscriber on one replica what another replica stored, and only its own workspace', async () => {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const writer = await openRedisPubSub(url, 'audit');
    const reader = await openRedisPubSub(url, 'audit');
    connections.push(writer, reader);
    const tenantId = randomUUID();
    const other = randomUUID();
    const stored = trail(tenantId);
    const stream = await openEventStream({
      tenantId,
      afterSequence: null,
      feed: createAuditFeed(reader, log),
      bufferLimit: 10,
      ...stored,
    });
    const publisher = createAuditFeed(writer, log);
    await publisher.publish(other, [view(other, 1)]);
    await publisher.publish(tenantId, stored.append(1));
    assert.deepEqual(await take(stream, 1), [1]);
    await stream.return?.();
  });
});
