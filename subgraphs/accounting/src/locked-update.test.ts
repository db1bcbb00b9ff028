import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataAccess, Tx } from '@numezis/runtime';
import { updateLocked } from './locked-update.ts';

interface Row {
  readonly id: string;
  readonly sealed: string;
  readonly updatedAt: Date;
}

/** A data access whose transactions only count; the rows come from the test's script. */
function fakeDataAccess(log: string[]): DataAccess {
  const tx = {} as Tx;
  const inTenant = async <T>(_tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> => {
    log.push('begin');
    const result = await work(tx);
    log.push('commit');
    return result;
  };
  return { inTenant } as unknown as DataAccess;
}

// A new Date each time: rows compare by the instant, not the object.
const row = (sealed: string): Row => ({ id: 'r', sealed, updatedAt: new Date(0) });

describe('updateLocked', () => {
  it('opens the row outside the transaction and updates with it when the lock finds it unchanged', async () => {
    const log: string[] = [];
    const result = await updateLocked(
      fakeDataAccess(log),
      't',
      async (_tx, lock) => {
        log.push(lock ? 'lock' : 'read');
        return row('v1');
      },
      async (read) => {
        log.push('open');
        return read.sealed.toUpperCase();
      },
      async (_tx, before) => {
        log.push(`update from ${before}`);
        return 'done';
      },
    );
    assert.equal(result, 'done');
    assert.deepEqual(log, ['begin', 'read', 'commit', 'open', 'begin', 'lock', 'update from V1', 'commit']);
  });

  it('reads again when the row changed before the lock, and opens inside the lock only on the last attempt', async () => {
    let version = 0;
    const opened: string[] = [];
    const befores: string[] = [];
    const result = await updateLocked(
      fakeDataAccess([]),
      't',
      // Every lock finds a newer row than the read before it: steady contention.
      async (_tx, lock) => {
        if (lock) version++;
        return row(`v${version}`);
      },
      async (read) => {
        opened.push(read.sealed);
        return read.sealed;
      },
      async (_tx, before) => {
        befores.push(before);
        return before;
      },
    );
    assert.deepEqual(opened, ['v0', 'v1', 'v2', 'v3']);
    assert.deepEqual(befores, ['v3'], 'the locked row, not a stale read');
    assert.equal(result, 'v3');
  });

  it('answers undefined for a row it cannot see, before or under the lock', async () => {
    let updates = 0;
    const update = async () => {
      updates++;
      return 'done';
    };
    const open = async (read: Row) => read;
    assert.equal(await updateLocked(fakeDataAccess([]), 't', async () => undefined, open, update), undefined);
    const vanishing = async (_tx: Tx, lock: boolean) => (lock ? undefined : row('v1'));
    assert.equal(await updateLocked(fakeDataAccess([]), 't', vanishing, open, update), undefined);
    assert.equal(updates, 0);
  });
});
