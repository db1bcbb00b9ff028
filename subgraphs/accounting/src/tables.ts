import { bigint, char, date, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sealedColumns } from '@numezis/runtime';

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

// The QR-bill's structured address, the same columns on every table that holds one. All but the
// country are sealed (see the sealed-column declarations below).
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
  /** Sealed; the plaintext is the electronic form (uppercase, no spaces). */
  iban: text('iban'),
  /** Keyed blind index of the IBAN (HMAC under the workspace's index key), for lookup and uniqueness. */
  ibanIndex: text('iban_index'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const employees = accounting.table('employees', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  ...postalAddressColumns(),
  /** Sealed; the plaintext is the 13 digits. */
  ahvNumber: text('ahv_number'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Personal data: stored only sealed under the workspace's field key, opened after reading. */
const addressSealed = ['street', 'buildingNumber', 'postcode', 'town'] as const;
export const contactsSealed = sealedColumns(contacts, [...addressSealed, 'iban']);
export const employeesSealed = sealedColumns(employees, [...addressSealed, 'ahvNumber']);
/** Every sealed column of the service, for key rotation. */
export const sealedTables = [contactsSealed, employeesSealed];

/** A person read the full AHV number of an employee: recorded before the number is returned. */
export const sensitiveReads = accounting.table('sensitive_reads', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  actorKind: text('actor_kind', { enum: ['user', 'apiKey'] }).notNull(),
  actorId: uuid('actor_id').notNull(),
  requestId: text('request_id').notNull(),
  clientIp: text('client_ip'),
  userAgent: text('user_agent'),
  subjectType: text('subject_type', { enum: ['Employee'] }).notNull(),
  subjectId: uuid('subject_id').notNull(),
  field: text('field', { enum: ['ahvNumber'] }).notNull(),
});

export type AccountRow = typeof accounts.$inferSelect;
export type JournalEntryRow = typeof journalEntries.$inferSelect;
export type ContactRow = typeof contacts.$inferSelect;
export type EmployeeRow = typeof employees.$inferSelect;
export type SensitiveReadRow = typeof sensitiveReads.$inferSelect;
