import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../clock.ts';
import { memoryState, openRedisState } from './shared-state.ts';
import type { SharedState } from './shared-state.ts';

// Tests meet the real Redis of this machine (and of CI, which starts it).
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('shared state', () => {
  const clock = manualClock(1_000_000);
  let redis: SharedState;
  before(async () => {
    redis = await openRedisState(redisUrl, 'gateway-test');
  });
  after(() => redis?.close());

  for (const kind of ['memory', 'redis'] as const) {
    it(`${kind}: counts hits per fixed window and keeps values until their TTL`, async () => {
      const state = kind === 'redis' ? redis : memoryState(() => clock.now());
      const key = `test:${randomUUID()}`;
      assert.equal((await state.hit(key, 60_000)).count, 1);
      assert.equal((await state.hit(key, 60_000)).count, 2);
      const third = await state.hit(key, 60_000);
      assert.equal(third.count, 3);
      assert.ok(third.resetInMs > 0 && third.resetInMs <= 60_000, String(third.resetInMs));
      assert.equal((await state.hit(`${key}:other`, 60_000)).count, 1);
      assert.equal((await state.peek(key))?.count, 3);
      assert.equal(await state.peek(`${key}:never`), undefined);
      await state.set(`${key}:doc`, 'query { x }', 60_000);
      assert.equal(await state.get(`${key}:doc`), 'query { x }');
      assert.equal(await state.get(`${key}:missing`), undefined);
    });
  }

  it('memory: a window ends and entries stay bounded', async () => {
    const state = memoryState(() => clock.now(), 3);
    await state.hit('a', 1_000);
    await state.hit('a', 1_000);
    clock.advance(1_001);
    assert.equal((await state.hit('a', 1_000)).count, 1);
    for (const key of ['b', 'c', 'd']) await state.set(key, key, 10_000);
    // Four keys in a store of three: the oldest ('a') went.
    assert.equal((await state.hit('a', 1_000)).count, 1);
    assert.equal(await state.get('b'), undefined);
  });

  it('refuses to start on a Redis it cannot reach, naming REDIS_URL', async () => {
    await assert.rejects(openRedisState('redis://127.0.0.1:1', 'gateway-test'), /REDIS_URL/);
  });
});
