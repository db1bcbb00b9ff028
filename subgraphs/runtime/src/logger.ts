import type { LoggerOptions } from 'pino';

/**
 * Paths pino removes from every log line. Secrets travel in headers (cookies, bearer tokens, the
 * signed context) and PII in GraphQL variables, so neither is ever logged.
 */
export const redactedPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-numezis-context"]',
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

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
