import type DataLoader from 'dataloader';
import { asc, inArray } from 'drizzle-orm';
import { groupBy, isUuid, tenantLoader } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { documentsTable } from './tables.ts';
import type { DocumentRow } from './tables.ts';

export interface Loaders {
  readonly documents: DataLoader<string, DocumentRow | null>;
  readonly documentsByEntry: DataLoader<string, DocumentRow[] | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  return {
    documents: tenantLoader(dataAccess, context.tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(documentsTable)
        .where(inArray(documentsTable.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
    documentsByEntry: tenantLoader(dataAccess, context.tenantId, async (tx, entryIds) => {
      const rows = await tx
        .select()
        .from(documentsTable)
        .where(inArray(documentsTable.journalEntryId, entryIds.filter(isUuid)))
        .orderBy(asc(documentsTable.createdAt));
      const grouped = groupBy(rows, (row) => row.journalEntryId);
      return new Map(entryIds.map((id) => [id, grouped.get(id) ?? []]));
    }),
  };
}
