import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import {
  authorize,
  createAccessDenials,
  ErrorCode,
  errorBody,
  forwardedContextOf,
  recordAuditEvent,
} from '@numezis/runtime';
import { otherAuditActions } from '@numezis/schema';
import type { AccessDenials, Clock, DataAccess, ForwardedContext, Keyring } from '@numezis/runtime';
import type { BlobStore } from './blob-store.ts';
import type { DocumentsSettings } from './config.ts';
import { contentDisposition, documentJson } from './document-view.ts';
import { openDocumentFile, sealDocumentFile, StoredFileCorrupt } from './file-encryption.ts';
import { inspectUpload, UploadRefused } from './upload-inspection.ts';
import type { UploadRefusalReason } from './upload-inspection.ts';
import { documentsTable, downloadTickets, uploadTickets } from './tables.ts';
import {
  hashTicket,
  internalDownloadPath,
  internalUploadPath,
  isWellFormedTicket,
  ticketHeader,
  ticketState,
} from './tickets.ts';
import type { TicketState } from './tickets.ts';

interface TransferOptions {
  readonly dataAccess: DataAccess;
  readonly settings: DocumentsSettings;
  readonly clock: Clock;
  readonly store: BlobStore;
  /** The workspaces' data keys: file contents are stored encrypted under their `field` key. */
  readonly keyring: Keyring;
}

/** A refusal of an HTTP route: status, catalogue code, message and extensions (`field`, `reason`). */
interface Refusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

const ticketRefusals: Record<Exclude<TicketState, 'usable'> | 'missing', Refusal> = {
  // Another workspace's ticket is not visible under row-level security: it lands here too.
  missing: { status: 404, code: ErrorCode.NOT_FOUND, message: 'No such ticket', details: { field: 'ticket' } },
  used: {
    status: 410,
    code: ErrorCode.BAD_USER_INPUT,
    message: 'This ticket was already used: ask for a new one',
    details: { field: 'ticket', reason: 'TICKET_USED' },
  },
  expired: {
    status: 410,
    code: ErrorCode.BAD_USER_INPUT,
    message: 'This ticket has expired: ask for a new one',
    details: { field: 'ticket', reason: 'TICKET_EXPIRED' },
  },
};

// The stored bytes are not the file that was stored: nothing of them is served.
const corruptFileRefusal: Refusal = {
  status: 500,
  code: ErrorCode.INTERNAL_SERVER_ERROR,
  message: 'The stored file failed its integrity check and is not served',
  details: { reason: 'STORED_FILE_CORRUPT' },
};

function fileRefusal(reason: UploadRefusalReason, maxBytes: number): Refusal {
  switch (reason) {
    case 'FILE_TOO_LARGE':
      return {
        status: 413,
        code: ErrorCode.PAYLOAD_TOO_LARGE,
        message: `The file is larger than ${maxBytes} bytes`,
        details: { field: 'file', reason, maxBytes },
      };
    case 'UNSUPPORTED_FILE_TYPE':
      return {
        status: 415,
        code: ErrorCode.BAD_USER_INPUT,
        message: 'The file is not a PDF, PNG, JPEG or TIFF',
        details: { field: 'file', reason },
      };
    case 'EMPTY_FILE':
      return {
        status: 400,
        code: ErrorCode.BAD_USER_INPUT,
        message: 'The file is empty',
        details: { field: 'file', reason },
      };
  }
}

/**
 * The routes behind the gateway's `PUT /uploads/...` and `GET /downloads/...`. Like every route of a
 * subgraph they need the gateway's signed context, which names the workspace: tickets are looked up
 * only there. Bodies are never parsed or buffered: an upload streams from the socket through the
 * checks into the blob store.
 */
export function registerTransferRoutes(app: FastifyInstance, options: TransferOptions): void {
  const denials = createAccessDenials(app.log, 'documents');
  void app.register(async (scope) => {
    // The raw stream is the body: no parser reads it, so no body limit applies but ours.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.put(internalUploadPath, (request, reply) => receiveUpload(request, reply, options, denials));
    scope.get(internalDownloadPath, (request, reply) => sendDownload(request, reply, options, denials));
  });
}

async function receiveUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  { dataAccess, settings, clock, store, keyring }: TransferOptions,
  denials: AccessDenials,
): Promise<FastifyReply> {
  const context = forwardedContextOf(request);
  // Whatever refuses the upload, the rest of the body is read and dropped rather than left in the
  // socket; the gateway stops sending as soon as it has the answer.
  const refuse = (refusal: Refusal) => {
    request.raw.resume();
    return send(reply, context, refusal);
  };
  let tenantId: string;
  try {
    // The same decision as the mutation that issued the ticket, taken again now: a role may have
    // changed since.
    tenantId = authorize(context, 'Mutation.createDocumentUpload');
  } catch (error) {
    return refuse(refusalOf(error));
  }
  const ticket = request.headers[ticketHeader];
  const now = clock.now();
  const claim = !isWellFormedTicket(ticket)
    ? ({ state: 'missing' } as const)
    : await dataAccess.inTenant(tenantId, async (tx) => {
        const [found] = await tx
          .select()
          .from(uploadTickets)
          .where(eq(uploadTickets.tokenHash, hashTicket(ticket)))
          .for('update');
        if (found === undefined) return { state: 'missing' } as const;
        const state = ticketState(found, now);
        if (state !== 'usable') return { state } as const;
        // Claimed before a byte is read: two uploads racing on one ticket cannot both proceed.
        await tx
          .update(uploadTickets)
          .set({ usedAt: new Date(now) })
          .where(eq(uploadTickets.id, found.id));
        return { state, ticket: found } as const;
      });
  if (claim.state !== 'usable') {
    if (claim.state === 'missing') denials.record({ field: 'PUT /uploads', code: 'NOT_FOUND', context });
    return refuse(ticketRefusals[claim.state]);
  }

  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > settings.maxUploadBytes) return refuse(fileRefusal('FILE_TOO_LARGE', settings.maxUploadBytes));

  const documentId = randomUUID();
  const blobKey = `${tenantId}/${documentId}`;
  const key = await keyring.currentKey(tenantId, 'field');
  // Leaving the loop early must not destroy the request: the socket still has to carry the answer.
  const inspection = inspectUpload(request.raw.iterator({ destroyOnReturn: false }), settings.maxUploadBytes);
  try {
    // Checked, then encrypted: the store only ever sees ciphertext.
    await store.put(blobKey, sealDocumentFile(inspection.content, key, { tenantId, documentId }));
  } catch (error) {
    if (error instanceof UploadRefused) return refuse(fileRefusal(error.reason, settings.maxUploadBytes));
    // The client went away mid-upload, or the store failed; the store kept nothing either way.
    if (request.raw.destroyed || request.raw.errored !== null) {
      request.log.info({ documentId }, 'upload aborted by the client');
      // Nobody is left to answer.
      return reply.hijack();
    }
    throw error;
  }
  const { contentType, size, sha256 } = inspection.result();
  try {
    const document = await dataAccess.inTenant(tenantId, async (tx) => {
      const [row] = await tx
        .insert(documentsTable)
        .values({
          tenantId,
          id: documentId,
          fileName: claim.ticket.fileName,
          contentType,
          journalEntryId: claim.ticket.journalEntryId,
          sizeBytes: size,
          sha256,
          blobKey,
          createdAt: new Date(clock.now()),
        })
        .returning();
      await tx.update(uploadTickets).set({ documentId }).where(eq(uploadTickets.id, claim.ticket.id));
      await recordAuditEvent(tx, { service: 'documents', clock }, context, otherAuditActions.documentUploaded, {
        targets: [{ type: 'Document', id: documentId }],
        after: {
          fileName: claim.ticket.fileName,
          contentType,
          size,
          sha256: sha256.toString('hex'),
          journalEntryId: claim.ticket.journalEntryId,
        },
      });
      return row;
    });
    if (document === undefined) throw new Error('insert returned no row');
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send({ document: documentJson(document) });
  } catch (error) {
    await store
      .delete(blobKey)
      .catch((cleanup: unknown) => request.log.error({ err: cleanup, documentId }, 'orphan blob'));
    throw error;
  }
}

async function sendDownload(
  request: FastifyRequest,
  reply: FastifyReply,
  { dataAccess, clock, store, keyring }: TransferOptions,
  denials: AccessDenials,
): Promise<FastifyReply> {
  const context = forwardedContextOf(request);
  let tenantId: string;
  try {
    tenantId = authorize(context, 'Mutation.createDocumentDownload');
  } catch (error) {
    return send(reply, context, refusalOf(error));
  }
  const ticket = request.headers[ticketHeader];
  const now = clock.now();
  const claim = !isWellFormedTicket(ticket)
    ? ({ state: 'missing' } as const)
    : await dataAccess.inTenant(tenantId, async (tx) => {
        const [link] = await tx
          .select()
          .from(downloadTickets)
          .where(eq(downloadTickets.tokenHash, hashTicket(ticket)))
          .for('update');
        if (link === undefined) return { state: 'missing' } as const;
        const state = ticketState(link, now);
        if (state !== 'usable') return { state } as const;
        await tx
          .update(downloadTickets)
          .set({ usedAt: new Date(now) })
          .where(eq(downloadTickets.id, link.id));
        // The link goes with its document (foreign key, cascade), so the document is there.
        const [document] = await tx.select().from(documentsTable).where(eq(documentsTable.id, link.documentId));
        if (document === undefined) throw new Error('download link without its document');
        await recordAuditEvent(tx, { service: 'documents', clock }, context, otherAuditActions.documentDownloaded, {
          targets: [{ type: 'Document', id: document.id }],
          after: { fileName: document.fileName, sha256: document.sha256?.toString('hex') ?? null },
        });
        return { state, document } as const;
      });
  if (claim.state !== 'usable') {
    if (claim.state === 'missing') denials.record({ field: 'GET /downloads', code: 'NOT_FOUND', context });
    return send(reply, context, ticketRefusals[claim.state]);
  }
  const { document } = claim;
  const documentId = document.id;
  const stored = document.blobKey === null ? null : await store.get(document.blobKey);
  if (stored === null || document.sizeBytes === null || document.sha256 === null) {
    // A link is only issued for a document with content: its file is missing from the store.
    throw new Error(`document ${documentId} has no stored content`);
  }
  const plaintext = openDocumentFile(
    stored,
    (version) => keyring.keyForVersion(tenantId, version, 'field'),
    { tenantId, documentId },
    { size: document.sizeBytes, sha256: document.sha256 },
  );
  // The first chunk is opened before the answer starts, so a bad header or first chunk (and any
  // fault of a file of one chunk) is a clear error status rather than a broken transfer.
  let first: IteratorResult<Buffer>;
  try {
    first = await plaintext.next();
  } catch (error) {
    stored.destroy();
    if (!(error instanceof StoredFileCorrupt)) throw error;
    request.log.error({ err: error, documentId }, 'stored file failed its integrity check');
    return send(reply, context, corruptFileRefusal);
  }
  const content = Readable.from(
    (async function* () {
      if (first.done !== true) yield first.value;
      yield* plaintext;
    })(),
    { objectMode: false },
  );
  // A fault found later cuts the transfer off (the response is destroyed, never ended), so the client
  // sees a broken download, short of its Content-Length, never a complete-looking file.
  content.once('error', (error) => {
    const message =
      error instanceof StoredFileCorrupt ? 'stored file failed its integrity check' : 'download failed midway';
    request.log.error({ err: error, documentId }, message);
  });
  // However the answer ends (a client gone before the first read included), the file is closed.
  content.once('close', () => stored.destroy());
  return reply
    .status(200)
    .header('content-type', document.contentType)
    .header('content-length', String(document.sizeBytes))
    .header('content-disposition', contentDisposition(document.fileName))
    .header('repr-digest', `sha-256=:${document.sha256.toString('base64')}:`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(content);
}

function send(reply: FastifyReply, context: ForwardedContext, refusal: Refusal): FastifyReply {
  // The gateway's request id: the one the client sees in x-request-id.
  return reply
    .status(refusal.status)
    .send(errorBody(refusal.code, refusal.message, context.requestId, refusal.details));
}

/** An access decision thrown by `authorize`, as an HTTP refusal. */
function refusalOf(error: unknown): Refusal {
  if (!(error instanceof GraphQLError)) throw error;
  const { code, ...details } = error.extensions;
  if (code === ErrorCode.UNAUTHENTICATED) return { status: 401, code, message: error.message, details };
  if (code === ErrorCode.FORBIDDEN) return { status: 403, code, message: error.message, details };
  throw error;
}
