import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { Agent, request as forward } from 'undici';
import { contextHeader, isUuid } from '@numezis/runtime/context/signed-context';
import { errorBody, ErrorCode } from '@numezis/runtime/errors';
import { checkFieldAccess } from '@numezis/runtime/policy/field-access';
import { fieldPolicy } from '@numezis/runtime/policy/operations';
import { createAccessDenials } from '@numezis/runtime/security/access-denials';
import type { ErrorCode as ErrorCodeType } from '@numezis/runtime/errors';
import type { WorkspaceOperation } from '@numezis/runtime/policy/operations';
import type { AccessDenials } from '@numezis/runtime/security/access-denials';
import type { GatewayContext } from './request-context.ts';
import { clearSessionCookie } from './session-cookie.ts';

/** Authenticates a request like /graphql does, acting in the workspace the URL names (if it names one). */
export type TransferAuthenticator = (
  request: FastifyRequest,
  workspaceId: string | undefined,
) => Promise<GatewayContext>;

export interface DocumentTransferOptions {
  /** The documents subgraph's GraphQL URL; its internal routes live beside it. */
  readonly documentsUrl: string;
  readonly authenticate: TransferAuthenticator;
  /** How long the documents service may take to answer once the request is sent, and between chunks. */
  readonly timeoutMs: number;
}

interface Params {
  readonly workspaceId: string;
  readonly ticket: string;
}

// The documents service's side of the two routes (subgraphs/documents/src/tickets.ts).
const internalUploadPath = '/internal/uploads';
const internalDownloadPath = '/internal/downloads';
const ticketHeader = 'x-numezis-ticket';
const ticketPattern = /^[A-Za-z0-9_-]{43}$/;
/** Headers of a download the client gets; nothing else from the documents service passes. */
const downloadHeaders = [
  'content-type',
  'content-length',
  'content-disposition',
  'repr-digest',
  'x-content-type-options',
  'cache-control',
] as const;
/**
 * How long a refused upload's remaining bytes are read and dropped before the connection is cut: a
 * well-behaved client stops sending when the answer arrives, and reading on meanwhile lets it read
 * the answer instead of a reset connection.
 */
const lingerMs = 5_000;

/**
 * File transfers, which GraphQL does not carry (@apollo/gateway forwards no multipart requests, and
 * /graphql keeps its small body limit):
 *
 * - `PUT /uploads/<workspace id>/<ticket>`: the file's bytes, streamed to the documents service as
 *   they arrive, never buffered here; the ticket comes from `createDocumentUpload`.
 * - `GET /downloads/<workspace id>/<ticket>`: a document's content, streamed from the documents
 *   service; the ticket comes from `createDocumentDownload`.
 *
 * Both authenticate exactly like /graphql (session cookie or API key) and take the access decision
 * of the mutation that issued the ticket before a byte of the body moves. The documents service
 * takes it again, and looks the ticket up in the caller's workspace only.
 */
export async function registerDocumentTransfers(app: FastifyInstance, options: DocumentTransferOptions): Promise<void> {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connect: { timeout: Math.min(5_000, options.timeoutMs) },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  app.addHook('onClose', async () => agent.close());
  const denials = createAccessDenials(app.log, 'gateway');
  const transfer = { ...options, agent, denials };
  await app.register(async (scope) => {
    // The body is the raw request stream: no parser reads it, so GATEWAY_BODY_LIMIT_BYTES stays the
    // limit of /graphql while uploads stream up to the documents service's own limit.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.put<{ Params: Params }>('/uploads/:workspaceId/:ticket', (request, reply) =>
      upload(request, reply, transfer),
    );
    scope.get<{ Params: Params }>('/downloads/:workspaceId/:ticket', (request, reply) =>
      download(request, reply, transfer),
    );
  });
}

interface Transfer extends DocumentTransferOptions {
  readonly agent: Agent;
  readonly denials: AccessDenials;
}

/** Authentication and the access decision; null when the reply already went out with a refusal. */
async function admit(
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
  transfer: Transfer,
  operation: WorkspaceOperation,
  field: string,
): Promise<GatewayContext | null> {
  const { workspaceId } = request.params;
  let context: GatewayContext;
  try {
    context = await transfer.authenticate(request, isUuid(workspaceId) ? workspaceId : undefined);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const { code, http, ...details } = error.extensions as {
      code?: ErrorCodeType;
      http?: { status?: number; headers?: Map<string, string> };
    };
    if (code === undefined) throw error;
    // Headers the refusal asks for (Retry-After of a rate limit) go out as Apollo would send them.
    for (const [name, value] of http?.headers ?? []) reply.header(name, value);
    reply.status(http?.status ?? 500).send(errorBody(code, error.message, request.id, details));
    return null;
  }
  if (context.staleSession) reply.header('set-cookie', clearSessionCookie());
  const denial = checkFieldAccess(fieldPolicy[operation], operation, context.forwarded);
  if (denial === null) return context;
  const reason = denial.extensions.reason ?? denial.extensions.permission;
  transfer.denials.record({
    field,
    code: denial.code,
    ...(reason === undefined ? {} : { reason }),
    context: context.forwarded,
  });
  const status = denial.code === ErrorCode.UNAUTHENTICATED ? 401 : 403;
  reply.status(status).send(errorBody(denial.code, denial.message, request.id, denial.extensions));
  return null;
}

/** The documents service's headers for one call: the signed context and, if it could be one, the ticket. */
function upstreamHeaders(context: GatewayContext, params: Params): Record<string, string> {
  const headers: Record<string, string> = { [contextHeader]: context.tokenFor('documents') };
  // A ticket we could not have issued travels as no ticket at all, so the documents service gives
  // its answer for a missing ticket, word for word.
  if (isUuid(params.workspaceId) && ticketPattern.test(params.ticket)) headers[ticketHeader] = params.ticket;
  return headers;
}

async function upload(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, transfer: Transfer) {
  const context = await admit(request, reply, transfer, 'Mutation.createDocumentUpload', 'PUT /uploads');
  if (context === null) return lingerThenClose(request, reply);
  const headers: Record<string, string> = {
    ...upstreamHeaders(context, request.params),
    'content-type': 'application/octet-stream',
  };
  const declaredLength = request.headers['content-length'];
  if (declaredLength !== undefined) headers['content-length'] = declaredLength;
  // A stream of our own between the client and undici: when the documents service answers early
  // (a refused file) undici may destroy the stream it sends, and that must not be the client's.
  const body = new PassThrough();
  request.raw.pipe(body);
  request.raw.once('close', () => {
    if (!request.raw.readableEnded) body.destroy(new Error('the client aborted the upload'));
  });
  let answer: { status: number; text: string };
  try {
    const response = await forward(new URL(internalUploadPath, transfer.documentsUrl), {
      method: 'PUT',
      headers,
      body,
      dispatcher: transfer.agent,
    });
    answer = { status: response.statusCode, text: await response.body.text() };
  } catch (error) {
    // The client went away mid-upload (and undici aborted the call upstream): nobody is left to answer.
    if (!request.raw.readableEnded && request.raw.destroyed) return reply.hijack();
    return unavailable(request, reply, error);
  }
  request.raw.unpipe(body);
  reply.status(answer.status).header('content-type', 'application/json; charset=utf-8').send(answer.text);
  return lingerThenClose(request, reply);
}

async function download(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, transfer: Transfer) {
  const context = await admit(request, reply, transfer, 'Mutation.createDocumentDownload', 'GET /downloads');
  if (context === null) return reply;
  try {
    const response = await forward(new URL(internalDownloadPath, transfer.documentsUrl), {
      method: 'GET',
      headers: upstreamHeaders(context, request.params),
      dispatcher: transfer.agent,
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      return reply.status(response.statusCode).header('content-type', 'application/json; charset=utf-8').send(text);
    }
    for (const name of downloadHeaders) {
      const value = response.headers[name];
      if (typeof value === 'string') reply.header(name, value);
    }
    // Should a browser ever render it anyway, the file runs no script and loads nothing.
    reply.header('content-security-policy', "default-src 'none'; sandbox");
    return reply.status(200).send(response.body);
  } catch (error) {
    return unavailable(request, reply, error);
  }
}

function unavailable(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  request.log.warn({ subgraph: 'documents', err: error }, 'file transfer failed');
  return reply.status(503).send(
    errorBody(ErrorCode.SUBGRAPH_UNAVAILABLE, 'The documents service is unavailable', request.id, {
      serviceName: 'documents',
    }),
  );
}

/**
 * After an answer given before the whole body arrived: drop what still comes, then cut the
 * connection if the client keeps sending. Nothing of it is kept, in memory or on disk.
 */
function lingerThenClose(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return reply;
  const timer = setTimeout(() => raw.socket.destroy(), lingerMs);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
  return reply;
}
