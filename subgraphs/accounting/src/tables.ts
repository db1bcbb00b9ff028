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

export type AccountRow = typeof accounts.$inferSelect;
export type JournalEntryRow = typeof journalEntries.$inferSelect;
