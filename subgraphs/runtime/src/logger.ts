import type { LoggerOptions } from 'pino';
import { safeError } from './safe-error-log.ts';

/**
 * Paths pino removes from every log line. Secrets travel in headers (cookies, bearer tokens, the
 * signed context, transfer tickets) and PII in GraphQL variables, so neither is ever logged.
 */
export const redactedPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-numezis-context"]',
  'req.headers["x-numezis-ticket"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'res.headers["x-numezis-session"]',
  'variables',
  '*.variables',
  'password',
  '*.password',
  'token',
  '*.token',
];

/**
 * Upload and download URLs carry a single-use ticket in their path, and a logged URL outlives the
 * ticket's purpose: everything after `/uploads/` or `/downloads/`, and any `token` or `ticket` query
 * parameter, is replaced before a URL reaches a log line; so are the `variables` of a GraphQL GET
 * (a persisted query's IBAN, say), which are personal data as often as not.
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  return (
    path.replace(/\/(uploads|downloads)\/.*$/, '/$1/[redacted]') +
    query.replace(/([?&](?:token|ticket|variables)=)[^&#]*/gi, '$1[redacted]')
  );
}

interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number } | null;
}

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    // Fastify's own request serializer, but with the URL redacted (see redactUrl).
    serializers: {
      // Query parameters and row values stay out of logged errors (see safeError).
      err: safeError,
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: request.url === undefined ? undefined : redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
