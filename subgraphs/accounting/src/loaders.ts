import type DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { isUuid, tenantLoader } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { accounts, journalEntries } from './tables.ts';
import type { AccountRow, JournalEntryRow } from './tables.ts';

export interface Loaders {
  readonly accounts: DataLoader<string, AccountRow | null>;
  readonly journalEntries: DataLoader<string, JournalEntryRow | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  return {
    accounts: tenantLoader(dataAccess, context.tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(accounts)
        .where(inArray(accounts.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
    journalEntries: tenantLoader(dataAccess, context.tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(journalEntries)
        .where(inArray(journalEntries.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
  };
}
