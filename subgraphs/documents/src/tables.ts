import { bigint, customType, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { contentTypes } from './file-type.ts';

export { contentTypes };

const documents = pgSchema('documents');

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const documentsTable = documents.table('documents', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  fileName: text('file_name').notNull(),
  contentType: text('content_type', { enum: contentTypes }).notNull(),
  journalEntryId: uuid('journal_entry_id'),
  createdAt: at('created_at').notNull().defaultNow(),
  // All three are null for a record made before uploads existed: metadata without content.
  sizeBytes: bigint('size_bytes', { mode: 'number' }),
  sha256: bytea('sha256'),
  blobKey: text('blob_key'),
});

export type DocumentRow = typeof documentsTable.$inferSelect;

/** An upload waiting for its file: the ticket in the upload URL, stored only as its hash. */
export const uploadTickets = documents.table('upload_tickets', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  tokenHash: bytea('token_hash').notNull(),
  fileName: text('file_name').notNull(),
  journalEntryId: uuid('journal_entry_id'),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  documentId: uuid('document_id'),
  createdAt: at('created_at').notNull().defaultNow(),
});

/** A download link: the ticket in its URL, stored only as its hash. */
export const downloadTickets = documents.table('download_tickets', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  tokenHash: bytea('token_hash').notNull(),
  documentId: uuid('document_id').notNull(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  createdAt: at('created_at').notNull().defaultNow(),
});
