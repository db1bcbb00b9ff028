import { defaultStackParser, makeNodeTransport, NodeClient, Scope } from '@sentry/node';
import type { ErrorEvent } from '@sentry/node';
import { onAccessDenied } from '../security/access-denials.ts';
import type { DeniedAttempt } from '../security/access-denials.ts';

/**
 * Unexpected errors and bursts of unauthorized-access attempts go to Sentry when SENTRY_DSN is set
 * (nothing is sent otherwise). Every event is scrubbed before it leaves: no request, no cookies or
 * headers, no breadcrumbs, no user address, and IBANs, AHV numbers, email addresses and tokens
 * replaced wherever they stand in a message, an exception or extra data. One reporter per process,
 * as one process runs one service.
 */
export interface ErrorReportingSettings {
  readonly dsn: string | null;
  readonly environment: string;
  readonly service: string;
  /** Unauthorized-access attempts by one actor within a minute that make a burst (default 20). */
  readonly burstThreshold?: number;
}

const noReporter = {
  captureException: (_error: unknown, _extra?: Record<string, unknown>) => undefined,
  captureMessage: (_message: string, _extra?: Record<string, unknown>) => undefined,
  flush: async (_timeoutMs: number) => true,
};
let reporter: typeof noReporter = noReporter;

/** Reports an unexpected error (no-op without SENTRY_DSN). `extra` is scrubbed like everything else. */
export function reportError(error: unknown, extra: Record<string, unknown> = {}): void {
  reporter.captureException(error, extra);
}

const redactions: readonly [RegExp, string][] = [
  // Tokens first: they may contain what looks like other data.
  [/\bnmz_[A-Za-z0-9_-]+/g, '[api-key]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?/g, '[token]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [token]'],
  [/(numezis-session=)[^;\s"]+/gi, '$1[token]'],
  [/[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/g, '[email]'],
  [/\b756[.\s]?\d{4}[.\s]?\d{4}[.\s]?\d{2}\b/g, '[ahv]'],
  // Not the last group of a UUID, which is IBAN-shaped one time in twenty ("…-fa60f8428177").
  [
    /(?<![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b/gi,
    '[iban]',
  ],
];

/** The text with every IBAN, AHV number, email address and token replaced by a placeholder. */
export function scrubText(text: string): string {
  return redactions.reduce((scrubbed, [pattern, replacement]) => scrubbed.replace(pattern, replacement), text);
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubDeep(item, depth + 1)]));
}

/** What leaves for Sentry: the event without request data, breadcrumbs or user address, all text scrubbed. */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  const scrubbed = scrubDeep({
    ...event,
    request: undefined,
    breadcrumbs: undefined,
    user: undefined,
    server_name: undefined,
  }) as ErrorEvent;
  return scrubbed;
}

/**
 * Starts reporting for this process; returns the function that flushes and stops it (at shutdown).
 * Without a DSN nothing is set up and nothing is sent.
 */
export function configureErrorReporting(settings: ErrorReportingSettings): () => Promise<void> {
  if (settings.dsn === null) return async () => undefined;
  const client = new NodeClient({
    dsn: settings.dsn,
    environment: settings.environment,
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    // Nothing automatic: no breadcrumbs of HTTP calls or console, no request data, no tracing.
    integrations: [],
    tracesSampleRate: 0,
    initialScope: { tags: { service: settings.service } },
    beforeSend: scrubEvent,
    beforeBreadcrumb: () => null,
  });
  const scope = new Scope();
  scope.setClient(client);
  scope.setTag('service', settings.service);
  client.init();
  reporter = {
    captureException: (error, extra) => {
      scope.captureException(error, extra === undefined ? undefined : { captureContext: { extra } });
    },
    captureMessage: (message, extra) => {
      scope.captureMessage(message, 'warning', extra === undefined ? undefined : { captureContext: { extra } });
    },
    flush: async (timeoutMs) => client.flush(timeoutMs),
  };
  const stopBursts = reportUnauthorizedBursts(settings.burstThreshold ?? 20);
  return async () => {
    stopBursts();
    await client.close(2_000);
    reporter = noReporter;
  };
}

/** Waits until queued events are sent (tests, shutdown). */
export function flushErrorReports(timeoutMs = 2_000): Promise<boolean> {
  return reporter.flush(timeoutMs);
}

/**
 * One Sentry warning when one actor's refused or fruitless attempts reach `threshold` within a
 * minute: a probing caller, worth a look now rather than in tomorrow's logs.
 */
function reportUnauthorizedBursts(threshold: number): () => void {
  const windowMs = 60_000;
  const recent = new Map<string, { count: number; startedAt: number; reported: boolean }>();
  const actorOf = ({ context }: DeniedAttempt) =>
    context.actor.kind === 'user'
      ? `user:${context.actor.userId}`
      : context.actor.kind === 'apiKey'
        ? `apiKey:${context.actor.keyId}`
        : 'anonymous';
  return onAccessDenied((attempt) => {
    const now = Date.now();
    for (const [key, entry] of recent) if (now - entry.startedAt > windowMs) recent.delete(key);
    const actor = actorOf(attempt);
    const entry = recent.get(actor) ?? { count: 0, startedAt: now, reported: false };
    entry.count++;
    recent.set(actor, entry);
    if (entry.count < threshold || entry.reported) return;
    entry.reported = true;
    reporter.captureMessage('burst of unauthorized access attempts', {
      actor,
      attempts: entry.count,
      windowSeconds: windowMs / 1000,
      lastField: attempt.field,
      lastCode: attempt.code,
      requestId: attempt.context.requestId,
    });
  });
}
