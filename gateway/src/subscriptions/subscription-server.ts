import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, Kind, OperationTypeNode, parse, specifiedRules, validate } from 'graphql';
import type { DocumentNode, ExecutionArgs, GraphQLSchema, OperationDefinitionNode, ValidationRule } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { fieldPolicy } from '@numezis/schema';
import type { FieldPolicy } from '@numezis/schema';
import { anonymousContext } from '@numezis/runtime/context/signed-context';
import { clientError, ErrorCode } from '@numezis/runtime/errors';
import { checkFieldAccess } from '@numezis/runtime/policy/field-access';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { EdgeAudit } from '../audit/edge-audit.ts';
import type { TrustedDocuments } from '../edge/persisted-queries.ts';
import type { RateLimiter } from '../edge/rate-limits.ts';
import type { GatewayContext } from '../request-context.ts';
import { subscribeUpstream } from './upstream.ts';

/** What a subscription may ask for: the audit trail's export feed, and only that. */
const subscriptionFields: Readonly<Record<string, string>> = { auditEvents: 'audit' };

export interface SubscriptionServerOptions {
  /** The API schema, for validating documents as the HTTP path does. */
  readonly schema: () => GraphQLSchema | null;
  readonly validationRules: readonly ValidationRule[];
  readonly maxTokens: number;
  /** The same authentication as the HTTP path, from the upgrade request's headers. */
  readonly authenticate: (request: { id: string; ip: string; headers: IncomingHttpHeaders }) => Promise<GatewayContext>;
  /** The client's address as the HTTP path sees it: through the trusted proxies, if any. */
  readonly clientIp: (request: IncomingMessage) => string;
  readonly subgraphUrls: ReadonlyMap<string, string>;
  readonly corsOrigins: readonly string[];
  readonly trustedDocuments: TrustedDocuments;
  readonly trustedDocumentsOnly: boolean;
  readonly rateLimiter: RateLimiter;
  readonly audit: EdgeAudit;
  readonly recheckMs: number;
  readonly connectionInitTimeoutMs: number;
  readonly maxConnections: number;
  readonly production: boolean;
  /** A fresh signed context per subscription: a connection outlives any one token. */
  readonly signContext: (forwarded: ForwardedContext, audience: string) => string;
}

interface Connection {
  readonly requestId: string;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  context?: GatewayContext;
  recheck?: NodeJS.Timeout;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** connection_init may carry the API key and the workspace, for clients that cannot set headers. */
function initHeaders(payload: Readonly<Record<string, unknown>> | undefined): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  const authorization = payload?.authorization ?? payload?.Authorization;
  if (typeof authorization === 'string') headers.authorization = authorization;
  const workspace = payload?.['x-numezis-workspace'];
  if (typeof workspace === 'string') headers['x-numezis-workspace'] = workspace;
  return headers;
}

function sameCaller(a: ForwardedContext, b: ForwardedContext): boolean {
  return JSON.stringify([a.actor, a.access]) === JSON.stringify([b.actor, b.access]);
}

/**
 * The gateway's own graphql-ws server on `/graphql` (@apollo/gateway cannot plan subscriptions).
 * The socket authenticates at `connection_init` with the session cookie or an API key, exactly as
 * an HTTP request does; a browser's `Origin` must be one of GATEWAY_CORS_ORIGINS. Each subscription
 * is checked against the field registry and proxied to its subgraph with the subscriber's own
 * signed context. The session or key is checked again every `recheckMs`: once revoked, or changed
 * to another workspace or role, the socket is closed with 4403.
 */
export function registerSubscriptionServer(
  app: FastifyInstance,
  options: SubscriptionServerOptions,
): () => Promise<void> {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 256 * 1024,
    handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
  });
  const connections = new WeakMap<WebSocket, Connection>();

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/graphql') return rejectUpgrade(socket, 404, 'Not Found');
    const origin = request.headers.origin;
    // Cross-site WebSocket hijacking: a browser page of another origin would ride on the cookie.
    if (origin !== undefined && !options.corsOrigins.includes(origin)) return rejectUpgrade(socket, 403, 'Forbidden');
    if (wss.clients.size >= options.maxConnections) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const ip = options.clientIp(request);
    options.rateLimiter.exceeded('ip', ip).then(
      (over) => {
        if (over !== null) return rejectUpgrade(socket, 429, 'Too Many Requests');
        wss.handleUpgrade(request, socket, head, (ws) => {
          connections.set(ws, { requestId: randomUUID(), ip, headers: request.headers });
          wss.emit('connection', ws, request);
        });
      },
      () => rejectUpgrade(socket, 503, 'Service Unavailable'),
    );
  });

  const refuse = (context: ForwardedContext, code: string, subject: string, detail?: string) =>
    options.audit.record({ context, code, subject, ...(detail === undefined ? {} : { detail }) });

  const server = useServer<Record<string, unknown> | undefined, { readonly socket: WebSocket }>(
    {
      connectionInitWaitTimeout: options.connectionInitTimeoutMs,
      isProd: options.production,
      onConnect: async (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        if (connection === undefined) return false;
        const request = {
          id: connection.requestId,
          ip: connection.ip,
          headers: { ...connection.headers, ...initHeaders(ctx.connectionParams) },
        };
        const basics = anonymousContext({
          requestId: request.id,
          clientIp: request.ip,
          userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
        });
        let context: GatewayContext;
        try {
          context = await options.authenticate(request);
        } catch (error) {
          const code = error instanceof GraphQLError ? String(error.extensions.code) : ErrorCode.UNAUTHENTICATED;
          refuse(basics, code, 'Subscription.connection');
          return false;
        }
        if (context.forwarded.actor.kind === 'anonymous') {
          refuse(context.forwarded, ErrorCode.UNAUTHENTICATED, 'Subscription.connection');
          return false;
        }
        connection.context = context;
        connection.recheck = setInterval(() => {
          options.authenticate(request).then(
            (fresh) => {
              if (!sameCaller(fresh.forwarded, context.forwarded)) {
                ctx.extra.socket.close(CloseCode.Forbidden, 'Session or API key no longer valid');
              }
            },
            () => ctx.extra.socket.close(CloseCode.Forbidden, 'Session or API key no longer valid'),
          );
        }, options.recheckMs);
        connection.recheck.unref();
        return true;
      },
      onClose: (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        clearInterval(connection?.recheck);
      },
      onSubscribe: (ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] => {
        const connection = connections.get(ctx.extra.socket);
        const context = connection?.context;
        const schema = options.schema();
        if (connection === undefined || context === undefined || schema === null) {
          return [clientError(ErrorCode.SERVICE_UNAVAILABLE, 'Subscriptions are not available yet')];
        }
        const forwarded = context.forwarded;
        const hash = (payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
        const trusted = typeof hash === 'string' ? options.trustedDocuments.get(hash) : undefined;
        if (typeof hash === 'string' && trusted === undefined) {
          refuse(forwarded, 'FORBIDDEN', 'Operation.document', ErrorCode.PERSISTED_QUERY_NOT_FOUND);
          return [clientError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, 'No trusted document has this id')];
        }
        const query = trusted?.body ?? payload.query;
        const isTrusted = trusted !== undefined || options.trustedDocuments.has(sha256(query));
        if (!isTrusted && (options.trustedDocumentsOnly || forwarded.actor.kind === 'apiKey')) {
          refuse(forwarded, 'FORBIDDEN', 'Operation.document', ErrorCode.PERSISTED_QUERY_REQUIRED);
          return [
            clientError(
              ErrorCode.PERSISTED_QUERY_REQUIRED,
              'Only trusted documents may run here: send extensions.persistedQuery.sha256Hash of one',
            ),
          ];
        }
        let document: DocumentNode;
        try {
          document = parse(query, { maxTokens: options.maxTokens });
        } catch (error) {
          return [clientError(ErrorCode.GRAPHQL_PARSE_FAILED, (error as Error).message)];
        }
        const errors = validate(schema, document, [...specifiedRules, ...options.validationRules]);
        if (errors.length > 0) {
          const limit = errors.find((error) => String(error.extensions.code) === ErrorCode.OPERATION_LIMIT_EXCEEDED);
          if (limit !== undefined) refuse(forwarded, ErrorCode.OPERATION_LIMIT_EXCEEDED, 'Operation.document');
          return errors.map((error) =>
            error.extensions.code === undefined
              ? new GraphQLError(error.message, { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } })
              : error,
          );
        }
        const operations = document.definitions.filter(
          (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
        );
        const operation =
          payload.operationName === undefined || payload.operationName === null
            ? operations[0]
            : operations.find((candidate) => candidate.name?.value === payload.operationName);
        if (operation === undefined || operation.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [
            clientError(
              ErrorCode.BAD_REQUEST,
              'Only subscriptions run over this socket; send queries and mutations by HTTP',
            ),
          ];
        }
        const fields = operation.selectionSet.selections;
        const field = fields[0];
        const subgraph = field?.kind === Kind.FIELD ? subscriptionFields[field.name.value] : undefined;
        if (fields.length !== 1 || field?.kind !== Kind.FIELD || subgraph === undefined) {
          return [clientError(ErrorCode.BAD_REQUEST, 'A subscription selects exactly one field')];
        }
        const coordinate = `Subscription.${field.name.value}`;
        const policies: Readonly<Record<string, FieldPolicy>> = fieldPolicy;
        const denial = checkFieldAccess(policies[coordinate], coordinate, forwarded);
        if (denial !== null) {
          refuse(forwarded, denial.code, coordinate, denial.extensions.permission ?? denial.extensions.reason);
          return [clientError(denial.code, denial.message, denial.extensions)];
        }
        const url = options.subgraphUrls.get(subgraph);
        if (url === undefined)
          return [clientError(ErrorCode.SUBGRAPH_UNAVAILABLE, 'The audit service is not configured')];
        return {
          schema,
          document,
          variableValues: payload.variables ?? null,
          operationName: payload.operationName ?? null,
          contextValue: { context, url, query, subgraph },
        };
      },
      subscribe: (args) => {
        const { context, url, query, subgraph } = args.contextValue as {
          context: GatewayContext;
          url: string;
          query: string;
          subgraph: string;
        };
        return subscribeUpstream({
          url,
          token: options.signContext(context.forwarded, subgraph),
          query,
          variables: (args.variableValues as Record<string, unknown> | null | undefined) ?? null,
          operationName: args.operationName ?? null,
        });
      },
    },
    wss,
  );

  return async () => {
    // 1001 Going Away: the client reconnects to another replica and resumes by sequence number.
    for (const client of wss.clients) client.close(1001, 'Gateway shutting down');
    await server.dispose();
  };
}
