import type DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { accounts, contacts, employees, journalEntries } from './tables.ts';
import type { AccountRow, ContactRow, EmployeeRow, JournalEntryRow } from './tables.ts';

export interface Loaders {
  readonly accounts: DataLoader<string, AccountRow | null>;
  readonly journalEntries: DataLoader<string, JournalEntryRow | null>;
  readonly contacts: DataLoader<string, ContactRow | null>;
  readonly employees: DataLoader<string, EmployeeRow | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read the books.
  const tenantId = tenantWith(context.access, 'accounting.read');
  // Employees are payroll data, which reading the books does not open.
  const payrollTenantId = tenantWith(context.access, 'payroll.read');
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
    contacts: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(contacts)
        .where(inArray(contacts.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
    employees: tenantLoader(dataAccess, payrollTenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(employees)
        .where(inArray(employees.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
    }),
  };
}
