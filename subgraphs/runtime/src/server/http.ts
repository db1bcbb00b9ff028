import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode, errorBody, internalErrorMessage } from '../errors.ts';
import { loggerOptions } from '../logger.ts';
import { reportError } from '../observability/error-reporting.ts';

/** How long a stop lets requests in flight finish: half of SHUTDOWN_TIMEOUT_MS's default (10 s). */
const closeGraceMs = 5_000;

export interface HttpOptions {
  readonly service: string;
  readonly logLevel: string;
  readonly requestTimeoutMs: number;
  readonly bodyLimitBytes?: number;
  /** Proxies whose X-Forwarded-For is believed; none by default, so the peer address is the client. */
  readonly trustProxy?: boolean | string | string[];
  /** Serve HTTPS with this certificate and key, TLS 1.3 only. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/**
 * A Fastify instance with the conventions every Numezis service shares: JSON logs with secrets
 * redacted, a request id per request, timeouts, and GraphQL-shaped errors for every failure that
 * happens before GraphQL runs (bad JSON, oversized body, unknown route), never HTML or a stack.
 */
export function createHttpServer(options: HttpOptions): FastifyInstance {
  // Typed as the plain server: routes and hooks are the same either way.
  const https = options.tls === undefined ? {} : { https: { ...options.tls, minVersion: 'TLSv1.3' as const } };
  const app = Fastify({
    ...https,
    logger: loggerOptions(options.service, options.logLevel),
    genReqId: () => randomUUID(),
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // One line per request is noise at info level; health probes never log.
      disableRequestLogging: (request) =>
        (options.logLevel !== 'debug' && options.logLevel !== 'trace') || request.url.startsWith('/livez'),
    }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    connectionTimeout: options.requestTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
  });

  // A stop waits for requests in flight, but not for ever: a connection that never went idle (one
  // was seen holding an audit subgraph's stop past its 10 s deadline, with no request in flight)
  // is swept with the idle ones and, after the grace period, cut.
  app.addHook('preClose', (done) => {
    const server = app.server;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const cutoff = setTimeout(() => server.closeAllConnections(), closeGraceMs);
    sweep.unref();
    cutoff.unref();
    server.once('close', () => {
      clearInterval(sweep);
      clearTimeout(cutoff);
    });
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        status === 413
          ? ErrorCode.PAYLOAD_TOO_LARGE
          : status === 401
            ? ErrorCode.UNAUTHENTICATED
            : ErrorCode.BAD_REQUEST;
      const message = status === 413 ? 'Request body is too large' : clientMessage(error);
      return reply.status(status).send(errorBody(code, message, request.id));
    }
    request.log.error({ err: error }, 'unhandled error');
    reportError(error, { route: request.routeOptions.url ?? 'unmatched', requestId: request.id });
    return reply.status(500).send(errorBody(ErrorCode.INTERNAL_SERVER_ERROR, internalErrorMessage, request.id));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody(ErrorCode.NOT_FOUND, 'Not found', request.id)),
  );

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  return app;
}

// Fastify's own 4xx messages (body parsing, content type) carry no internals; anything else is generic.
function clientMessage(error: FastifyError): string {
  return error.code?.startsWith('FST_') === true ? error.message : 'Bad request';
}

/**
 * `/livez` answers while the process runs; `/health` answers 200 only when the service can serve
 * (its dependencies answer), so orchestrators and the gateway take it out of rotation otherwise.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Promise<Record<string, string>>): void {
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/health', async (request, reply) => {
    try {
      const checks = await readiness();
      const ok = Object.values(checks).every((status) => status === 'ok');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
}

/** Races a promise against a timeout, for health checks that must answer promptly. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
