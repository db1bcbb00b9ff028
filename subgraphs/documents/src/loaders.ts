import type DataLoader from 'dataloader';
import { asc, inArray } from 'drizzle-orm';
import { groupBy, isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { documentsTable } from './tables.ts';
import type { DocumentRow } from './tables.ts';

export interface Loaders {
  readonly documents: DataLoader<string, DocumentRow | null>;
  readonly documentsByEntry: DataLoader<string, DocumentRow[] | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read documents.
  const tenantId = tenantWith(context.access, 'documents.read');
  return {
    documents: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(documentsTable)
        .where(inArray(documentsTable.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
    documentsByEntry: tenantLoader(dataAccess, tenantId, async (tx, entryIds) => {
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
