import type DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { accounts, journalEntries } from './tables.ts';
import type { AccountRow, JournalEntryRow } from './tables.ts';

export interface Loaders {
  readonly accounts: DataLoader<string, AccountRow | null>;
  readonly journalEntries: DataLoader<string, JournalEntryRow | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read the books.
  const tenantId = tenantWith(context.access, 'accounting.read');
  return {
    accounts: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(accounts)
        .where(inArray(accounts.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
    journalEntries: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(journalEntries)
        .where(inArray(journalEntries.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
  };
}
