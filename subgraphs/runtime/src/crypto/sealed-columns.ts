import { and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DataAccess } from '../db/data-access.ts';
import type { FieldCipher } from './field-cipher.ts';
import type { Keyring } from './keyring.ts';

/**
 * The one declaration that makes columns of a table encrypted: `sealedColumns(contacts, ['iban', ...])`.
 * The named text columns then hold only sealed values (`v1.<dekVersion>.<base64url>`, bound to
 * workspace, table, column and row), sealed before every write and opened after every read through
 * this object, and the key rotation command finds them here to re-encrypt. A new PII column is one
 * more name in the list (and a CHECK in its migration that refuses anything but the sealed format).
 */
export interface SealedColumns<K extends string> {
  /** The SQL table name, part of each value's AAD. */
  readonly tableName: string;
  readonly properties: readonly K[];
  /** Seals the given plaintexts for this row; null stays null, absent stays absent. */
  seal<V extends { readonly [P in K]?: string | null | undefined }>(
    fields: FieldCipher,
    tenantId: string,
    rowId: string,
    values: V,
  ): Promise<V>;
  /** The row with its sealed columns opened; a value sealed for another place fails. */
  open<R extends { readonly id: string } & Record<K, string | null>>(
    fields: FieldCipher,
    tenantId: string,
    row: R,
  ): Promise<R>;
  /** `open` for a list of rows. */
  openAll<R extends { readonly id: string } & Record<K, string | null>>(
    fields: FieldCipher,
    tenantId: string,
    rows: readonly R[],
  ): Promise<R[]>;
  /**
   * Re-seals, under the workspace's current field key, one batch of rows that still hold a value of
   * an older key version: rows after `afterId` in id order. Each row is written only if it is
   * unchanged since it was read, so a concurrent edit is never overwritten. Returns the last id seen
   * (undefined when no such row is left) and how many rows were re-sealed.
   */
  reencryptBatch(options: ReencryptOptions): Promise<{ readonly lastId: string | undefined; readonly rows: number }>;
}

export interface ReencryptOptions {
  readonly dataAccess: DataAccess;
  readonly keyring: Keyring;
  readonly fields: FieldCipher;
  readonly tenantId: string;
  readonly afterId?: string;
  readonly batchSize: number;
}

type SealedTable = PgTable & { readonly id: PgColumn; readonly tenantId: PgColumn };

/** The key version a sealed value names, as SQL (`v1.<version>.<body>`). */
const versionOf = (column: PgColumn): SQL<number> => sql<number>`split_part(${column}, '.', 2)::int`;

export function sealedColumns<T extends SealedTable, const K extends keyof T['$inferSelect'] & string>(
  table: T,
  properties: readonly K[],
): SealedColumns<K> {
  const tableName = getTableConfig(table).name;
  const columnOf = (property: K): PgColumn => {
    const column = (table as unknown as Record<string, unknown>)[property];
    if (typeof column !== 'object' || column === null || !('name' in column)) {
      throw new Error(`sealedColumns: ${tableName} has no column ${property}`);
    }
    return column as PgColumn;
  };
  const columns = new Map(properties.map((property) => [property, columnOf(property)]));
  const refOf = (tenantId: string, rowId: string, property: K) => ({
    tenantId,
    table: tableName,
    column: columns.get(property)?.name ?? property,
    rowId,
  });

  const open = async <R extends { readonly id: string } & Record<K, string | null>>(
    fields: FieldCipher,
    tenantId: string,
    row: R,
  ): Promise<R> => {
    const opened: Record<string, unknown> = { ...row };
    for (const property of properties) {
      const sealed = row[property];
      if (sealed !== null) opened[property] = await fields.decryptField(refOf(tenantId, row.id, property), sealed);
    }
    return opened as R;
  };

  return {
    tableName,
    properties,

    async seal(fields, tenantId, rowId, values) {
      const sealed: Record<string, unknown> = { ...values };
      for (const property of properties) {
        const value = values[property];
        if (typeof value === 'string')
          sealed[property] = await fields.encryptField(refOf(tenantId, rowId, property), value);
      }
      return sealed as typeof values;
    },

    open,

    openAll: (fields, tenantId, rows) => Promise.all(rows.map((row) => open(fields, tenantId, row))),

    async reencryptBatch({ dataAccess, keyring, fields, tenantId, afterId, batchSize }) {
      const current = (await keyring.currentKey(tenantId, 'field')).version;
      const selection = Object.fromEntries([
        ['id', table.id],
        ...[...columns].map(([property, column]) => [property, column]),
      ]) as Record<string, PgColumn>;
      const stale = or(
        ...[...columns.values()].map((column) => and(isNotNull(column), sql`${versionOf(column)} <> ${current}`)),
      );
      const rows = (await dataAccess.inTenant(tenantId, (tx) =>
        tx
          .select(selection)
          .from(table as PgTable)
          .where(and(stale, afterId === undefined ? undefined : gt(table.id, afterId)))
          .orderBy(asc(table.id))
          .limit(batchSize),
      )) as ({ id: string } & Record<K, string | null>)[];
      let written = 0;
      for (const row of rows) {
        // Opened and sealed outside any transaction, so no connection waits on the KMS.
        const plain = await open(fields, tenantId, row);
        const resealed = await this.seal(fields, tenantId, row.id, plain);
        const unchanged = [...columns].map(([property, column]) =>
          row[property] === null ? sql`${column} IS NULL` : eq(column, row[property]),
        );
        const values = Object.fromEntries(properties.map((property) => [property, resealed[property]]));
        const updated = await dataAccess.inTenant(tenantId, (tx) =>
          tx
            .update(table as PgTable)
            .set(values)
            .where(and(eq(table.id, row.id), ...unchanged))
            .returning({ id: table.id }),
        );
        written += updated.length;
      }
      return { lastId: rows.at(-1)?.id, rows: written };
    },
  };
}

/**
 * Rotates a workspace's field key and re-seals every sealed column of `tables` under the new
 * version, batch by batch. A crash leaves some rows on the old version, which stays readable;
 * running `reencryptWorkspace` again finishes the job, since it selects by key version.
 */
export async function reencryptWorkspace(
  options: Omit<ReencryptOptions, 'afterId'> & {
    readonly tables: readonly SealedColumns<string>[];
    readonly onBatch?: (table: string, rows: number) => void;
  },
): Promise<{ readonly rows: number }> {
  let total = 0;
  for (const table of options.tables) {
    let afterId: string | undefined;
    do {
      const batch = await table.reencryptBatch({ ...options, ...(afterId === undefined ? {} : { afterId }) });
      afterId = batch.lastId;
      total += batch.rows;
      options.onBatch?.(table.tableName, batch.rows);
    } while (afterId !== undefined);
  }
  return { rows: total };
}
