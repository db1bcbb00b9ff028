import { randomUUID } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { FastifyBaseLogger } from 'fastify';
import { desc, eq } from 'drizzle-orm';
import { auditChange, authorize, badUserInput, clientError, ErrorCode, isUuid, requiredText } from '@numezis/runtime';
import type { AuditTarget, Clock, DataAccess, JsonObject, SubgraphContext, Tx } from '@numezis/runtime';
import type { BlobStore } from './blob-store.ts';
import type { DocumentsSettings } from './config.ts';
import type { Loaders } from './loaders.ts';
import { documentsTable, downloadTickets, uploadTickets } from './tables.ts';
import type { DocumentRow } from './tables.ts';
import { downloadUrlOf, hashTicket, newTicket, uploadUrlOf } from './tickets.ts';

export interface DocumentsContext extends SubgraphContext {
  readonly loaders: Loaders;
  readonly log: FastifyBaseLogger;
}

export interface DocumentsDependencies {
  readonly dataAccess: DataAccess;
  readonly settings: DocumentsSettings;
  readonly clock: Clock;
  readonly store: BlobStore;
}

interface CreateDocumentUploadArgs {
  input: { fileName: string; journalEntryId?: string | null };
}

const maxPageSize = 200;

// Another workspace's document is not visible under row-level security: it is this same error.
const noSuchDocument = () => clientError(ErrorCode.NOT_FOUND, 'No such document');
const backsEntry = () =>
  clientError(ErrorCode.BAD_USER_INPUT, 'This document backs a posted journal entry, which keeps its receipts', {
    field: 'id',
    reason: 'DOCUMENT_BACKS_JOURNAL_ENTRY',
  });

/** The file name is shown and sent back in Content-Disposition: one plain name, no path. */
function parseFileName(value: string): string {
  const fileName = requiredText(value, 'fileName', 255);
  if (/[/\\]/.test(fileName)) throw badUserInput('fileName', 'fileName must be a name without a folder');
  return fileName;
}

function parseEntryId(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!isUuid(value)) throw badUserInput('journalEntryId', 'journalEntryId must be a journal entry id');
  return value;
}

/** A document as the audit trail shows it: what identifies the file, never its content or blob key. */
function documentImage(document: DocumentRow): JsonObject {
  return {
    fileName: document.fileName,
    contentType: document.contentType,
    size: document.sizeBytes,
    sha256: document.sha256?.toString('hex') ?? null,
    journalEntryId: document.journalEntryId,
  };
}

const documentTarget = (id: string): AuditTarget => ({ type: 'Document', id });

async function lockedDocument(tx: Tx, id: string): Promise<DocumentRow> {
  if (!isUuid(id)) throw noSuchDocument();
  const [document] = await tx.select().from(documentsTable).where(eq(documentsTable.id, id)).for('update');
  if (document === undefined) throw noSuchDocument();
  return document;
}

export function documentsResolvers({
  dataAccess,
  settings,
  clock,
  store,
}: DocumentsDependencies): GraphQLResolverMap<DocumentsContext> {
  return {
    Query: {
      document: (_: unknown, { id }: { id: string }, context: DocumentsContext) => {
        authorize(context.forwarded, 'Query.document');
        return isUuid(id) ? context.loaders.documents.load(id) : null;
      },
      documents: (_: unknown, { first }: { first: number }, context: DocumentsContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.documents'), (tx) =>
          tx
            .select()
            .from(documentsTable)
            .orderBy(desc(documentsTable.createdAt))
            .limit(Math.min(Math.max(first, 0), maxPageSize)),
        ),
    },
    Mutation: {
      createDocumentUpload: async (_: unknown, { input }: CreateDocumentUploadArgs, context: DocumentsContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createDocumentUpload');
        const fileName = parseFileName(input.fileName);
        const journalEntryId = parseEntryId(input.journalEntryId);
        const ticket = newTicket();
        const expiresAt = new Date(clock.now() + settings.uploadTicketTtlMs);
        const ticketId = randomUUID();
        await dataAccess.inTenant(tenantId, async (tx) => {
          await tx
            .insert(uploadTickets)
            .values({ tenantId, id: ticketId, tokenHash: hashTicket(ticket), fileName, journalEntryId, expiresAt });
          // The document has no id until its file arrives: the upload ticket is what this creates.
          // Never the ticket itself, nor its hash: it is a bearer secret until it expires.
          await auditChange(tx, {
            targets: [{ type: 'DocumentUpload', id: ticketId }],
            before: null,
            after: { fileName, journalEntryId, expiresAt: expiresAt.toISOString() },
          });
        });
        return {
          uploadUrl: uploadUrlOf(tenantId, ticket),
          expiresAt: expiresAt.toISOString(),
          maxBytes: settings.maxUploadBytes,
        };
      },
      createDocumentDownload: async (_: unknown, { id }: { id: string }, context: DocumentsContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createDocumentDownload');
        const ticket = newTicket();
        const expiresAt = new Date(clock.now() + settings.downloadLinkTtlMs);
        await dataAccess.inTenant(tenantId, async (tx) => {
          if (!isUuid(id)) throw noSuchDocument();
          const [document] = await tx
            .select({ blobKey: documentsTable.blobKey, fileName: documentsTable.fileName })
            .from(documentsTable)
            .where(eq(documentsTable.id, id));
          if (document === undefined) throw noSuchDocument();
          if (document.blobKey === null) {
            throw clientError(ErrorCode.BAD_USER_INPUT, 'This document was recorded without its file', {
              field: 'id',
              reason: 'NO_CONTENT',
            });
          }
          await tx
            .insert(downloadTickets)
            .values({ tenantId, id: randomUUID(), tokenHash: hashTicket(ticket), documentId: id, expiresAt });
          // The link is a row of its own (it is claimed on use), so it is recorded with it; the
          // document it opens is unchanged.
          await auditChange(tx, {
            targets: [documentTarget(id)],
            before: null,
            after: { fileName: document.fileName, linkExpiresAt: expiresAt.toISOString() },
          });
        });
        return { url: downloadUrlOf(tenantId, ticket), expiresAt: expiresAt.toISOString() };
      },
      attachDocument: async (
        _: unknown,
        args: { id: string; journalEntryId: string },
        context: DocumentsContext,
      ): Promise<DocumentRow> => {
        const tenantId = authorize(context.forwarded, 'Mutation.attachDocument');
        return dataAccess.inTenant(tenantId, async (tx) => {
          const document = await lockedDocument(tx, args.id);
          const journalEntryId = parseEntryId(args.journalEntryId);
          const targets = [documentTarget(document.id), { type: 'JournalEntry', id: args.journalEntryId }];
          if (document.journalEntryId === journalEntryId) {
            // Already attached: nothing changes, but the event still names what was asked for.
            await auditChange(tx, { targets, before: documentImage(document), after: documentImage(document) });
            return document;
          }
          if (document.journalEntryId !== null) throw backsEntry();
          const [updated] = await tx
            .update(documentsTable)
            .set({ journalEntryId })
            .where(eq(documentsTable.id, document.id))
            .returning();
          const result = updated ?? document;
          await auditChange(tx, { targets, before: documentImage(document), after: documentImage(result) });
          return result;
        });
      },
      deleteDocument: async (_: unknown, { id }: { id: string }, context: DocumentsContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.deleteDocument');
        const blobKey = await dataAccess.inTenant(tenantId, async (tx) => {
          const document = await lockedDocument(tx, id);
          // Entries are posted when they are created (there are no drafts), so any link is to a
          // posted entry, whose receipts must be kept.
          if (document.journalEntryId !== null) throw backsEntry();
          await tx.delete(documentsTable).where(eq(documentsTable.id, document.id));
          // The record is gone for good (its file follows below): nothing is left to show after.
          await auditChange(tx, {
            targets: [documentTarget(document.id)],
            before: documentImage(document),
            after: null,
          });
          return document.blobKey;
        });
        // After the commit: a failure here leaves an unreferenced file, never a record without one.
        if (blobKey !== null) {
          await store.delete(blobKey).catch((error: unknown) => {
            context.log.error({ err: error, documentId: id }, 'deleted document left its file behind');
          });
        }
        return true;
      },
    },
    Document: {
      __resolveReference: (reference: { id: string }, context: DocumentsContext) =>
        context.loaders.documents.load(reference.id),
      createdAt: (document: DocumentRow) => document.createdAt.toISOString(),
      size: (document: DocumentRow) => document.sizeBytes,
      sha256: (document: DocumentRow) => document.sha256?.toString('hex') ?? null,
      journalEntry: (document: DocumentRow) =>
        document.journalEntryId === null ? null : { __typename: 'JournalEntry', id: document.journalEntryId },
    },
    JournalEntry: {
      // The entry itself lives in accounting; here it is only a key to hang documents on.
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      documents: async (entry: { id: string }, _: unknown, context: DocumentsContext) =>
        (await context.loaders.documentsByEntry.load(entry.id)) ?? [],
    },
  };
}
