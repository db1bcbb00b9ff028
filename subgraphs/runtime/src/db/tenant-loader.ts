import DataLoader from 'dataloader';
import type { PortfolioAccess, PortfolioClient } from '../context/access-mode.ts';
import type { Permission } from '../policy/roles.ts';
import type { DataAccess } from './data-access.ts';
import type { Tx } from './database.ts';

/**
 * A per-request batch loader whose batches run through the tenant-scoped data access path: all the
 * entity references a query plan sends in one `_entities` call become one SQL query. Without a
 * tenant every key resolves to null and no query runs.
 */
export function tenantLoader<Key extends string, Row, Value = Row>(
  dataAccess: DataAccess,
  tenantId: string | null,
  batch: (tx: Tx, keys: readonly Key[]) => Promise<ReadonlyMap<Key, Row>>,
  /** Runs on each row after the transaction (decryption, say), so no connection waits on the KMS. */
  finish?: (row: Row, tenantId: string) => Promise<Value>,
): DataLoader<Key, Value | null> {
  return new DataLoader<Key, Value | null>(async (keys): Promise<(Value | null | Error)[]> => {
    if (tenantId === null) return keys.map(() => null);
    const found = await dataAccess.inTenant(tenantId, (tx) => batch(tx, keys));
    return Promise.all(
      keys.map(async (key) => {
        const row = found.get(key);
        if (row === undefined) return null;
        if (finish === undefined) return row as unknown as Value;
        // One row that cannot be finished fails its own key, not the batch.
        return finish(row, tenantId).catch((error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
        );
      }),
    );
  });
}

/**
 * A per-request loader keyed by client workspace id, for a portfolio caller: each batch reads one
 * value per requested client whose link grants `permission`, in that client's own read-only pass
 * (`DataAccess.inPortfolio`). Any other key (a workspace outside the portfolio, a client without
 * the permission) resolves to null without a query.
 */
export function portfolioClientLoader<Value>(
  dataAccess: DataAccess,
  access: PortfolioAccess,
  permission: Permission,
  load: (tx: Tx, client: PortfolioClient) => Promise<Value | undefined>,
): DataLoader<string, Value | null> {
  return new DataLoader<string, Value | null>(async (keys) => {
    const loaded = await dataAccess.inPortfolio(
      access,
      permission,
      async (tx, client) => [client.tenantId, (await load(tx, client)) ?? null] as const,
      { only: new Set(keys) },
    );
    const found = new Map(loaded);
    return keys.map((key) => found.get(key) ?? null);
  });
}

/** Groups rows by a key, for one-to-many loaders. */
export function groupBy<Key, Row>(rows: readonly Row[], keyOf: (row: Row) => Key): Map<Key, Row[]> {
  const groups = new Map<Key, Row[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  return groups;
}
