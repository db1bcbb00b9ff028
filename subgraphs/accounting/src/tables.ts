import { bigint, char, date, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const accounting = pgSchema('accounting');

export const accountTypes = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'] as const;

export const accounts = accounting.table('accounts', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  number: text('number').notNull(),
  name: text('name').notNull(),
  type: text('type', { enum: accountTypes }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const journalEntries = accounting.table('journal_entries', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  bookingDate: date('booking_date', { mode: 'string' }).notNull(),
  description: text('description').notNull(),
  amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
  currency: char('currency', { length: 3 }).notNull(),
  debitAccountId: uuid('debit_account_id').notNull(),
  creditAccountId: uuid('credit_account_id').notNull(),
  authorId: uuid('author_id'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const contactKinds = ['CUSTOMER', 'SUPPLIER'] as const;

// The QR-bill's structured address, the same columns on every table that holds one.
const postalAddressColumns = () => ({
  street: text('street'),
  buildingNumber: text('building_number'),
  postcode: text('postcode').notNull(),
  town: text('town').notNull(),
  country: char('country', { length: 2 }).notNull(),
});

export const contacts = accounting.table('contacts', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  kind: text('kind', { enum: contactKinds }).notNull(),
  name: text('name').notNull(),
  ...postalAddressColumns(),
  email: text('email'),
  /** Electronic form (uppercase, no spaces). */
  iban: text('iban'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const employees = accounting.table('employees', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  ...postalAddressColumns(),
  /**
   * The 13 digits, in plain text until PII encryption arrives (its own issue); the column's name
   * says so, so nobody mistakes it for the sealed form that will replace it.
   */
  ahvNumberPlaintext: char('ahv_number_plaintext', { length: 13 }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type AccountRow = typeof accounts.$inferSelect;
export type JournalEntryRow = typeof journalEntries.$inferSelect;
export type ContactRow = typeof contacts.$inferSelect;
export type EmployeeRow = typeof employees.$inferSelect;
