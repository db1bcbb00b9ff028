import type DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, FieldCipher, ForwardedContext } from '@numezis/runtime';
import { accounts, contacts, contactsSealed, employees, employeesSealed, journalEntries } from './tables.ts';
import type { AccountRow, ContactRow, EmployeeRow, JournalEntryRow } from './tables.ts';

export interface Loaders {
  readonly accounts: DataLoader<string, AccountRow | null>;
  readonly journalEntries: DataLoader<string, JournalEntryRow | null>;
  readonly contacts: DataLoader<string, ContactRow | null>;
  readonly employees: DataLoader<string, EmployeeRow | null>;
}

/** Contacts and employees come out of the loaders with their sealed columns opened. */
export function createLoaders(dataAccess: DataAccess, fields: FieldCipher, context: ForwardedContext): Loaders {
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
    contacts: tenantLoader(
      dataAccess,
      tenantId,
      async (tx, ids) => {
        const rows = await tx
          .select()
          .from(contacts)
          .where(inArray(contacts.id, ids.filter(isUuid)));
        return new Map(rows.map((row) => [row.id, row]));
      },
      (row, tenant) => contactsSealed.open(fields, tenant, row),
    ),
    employees: tenantLoader(
      dataAccess,
      payrollTenantId,
      async (tx, ids) => {
        const rows = await tx
          .select()
          .from(employees)
          .where(inArray(employees.id, ids.filter(isUuid)));
        return new Map(rows.map((row) => [row.id, row]));
      },
      (row, tenant) => employeesSealed.open(fields, tenant, row),
    ),
  };
}
