import { pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const documents = pgSchema('documents');

export const contentTypes = ['application/pdf', 'image/png', 'image/jpeg', 'image/tiff'] as const;

export const documentsTable = documents.table('documents', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  fileName: text('file_name').notNull(),
  contentType: text('content_type', { enum: contentTypes }).notNull(),
  journalEntryId: uuid('journal_entry_id'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type DocumentRow = typeof documentsTable.$inferSelect;
