import type { DataAccess, Tx } from '@numezis/runtime';

/** Reads the row, locked `FOR UPDATE` when `lock` is set; undefined when it is not visible. */
export type RowSelect<Row> = (tx: Tx, lock: boolean) => Promise<Row | undefined>;

// Reading again is cheap; opening inside a transaction is what we avoid, not forbid.
const attempts = 3;

class RowChangedMeanwhile extends Error {}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/** Column by column: sealed columns compare as ciphertexts, so equal means the same plaintext. */
function sameRow<Row extends object>(a: Row, b: Row): boolean {
  const keys = Object.keys(a) as (keyof Row)[];
  return keys.length === Object.keys(b).length && keys.every((key) => sameValue(a[key], b[key]));
}

/**
 * Runs `update` in a transaction that holds the row locked, with the row as that transaction sees
 * it, opened (decrypted), for the audit event's before-image.
 *
 * Opening may have to load a data key, which the keyring does in a transaction of its own; inside
 * another transaction that takes a second pooled connection, and with PGlite's single connection
 * waits forever. So, as everywhere else in this service, rows are opened outside any transaction:
 * the row is read and opened first, then locked in the update's transaction and compared with what
 * was opened. A row that changed in between is read again; under steady contention the last
 * attempt opens the locked row inside its transaction after all, when the keys it needs are almost
 * surely cached by the opens just done.
 *
 * Resolves to undefined when the row is not visible (missing, or another workspace's).
 */
export async function updateLocked<Row extends object, Opened, Result>(
  dataAccess: DataAccess,
  tenantId: string,
  select: RowSelect<Row>,
  open: (row: Row) => Promise<Opened>,
  update: (tx: Tx, before: Opened) => Promise<Result>,
): Promise<Result | undefined> {
  for (let attempt = 1; ; attempt++) {
    const read = await dataAccess.inTenant(tenantId, (tx) => select(tx, false));
    if (read === undefined) return undefined;
    const opened = await open(read);
    try {
      return await dataAccess.inTenant(tenantId, async (tx) => {
        const locked = await select(tx, true);
        if (locked === undefined) return undefined;
        if (sameRow(read, locked)) return update(tx, opened);
        if (attempt >= attempts) return update(tx, await open(locked));
        throw new RowChangedMeanwhile();
      });
    } catch (error) {
      if (!(error instanceof RowChangedMeanwhile)) throw error;
    }
  }
}
