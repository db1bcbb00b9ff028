// Apart from the relay (which reads the outbox through drizzle): the gateway sends its records
// with it and should not load the database layer for that.
import type { AuditEvent } from './event.ts';

/** Delivers a batch of events to the audit subgraph; resolves once it has stored every one. */
export type AuditSender = (events: readonly AuditEvent[]) => Promise<void>;

export class AuditDeliveryError extends Error {}

/** Posts events to the audit subgraph's ingest route with the shared token. */
export function httpAuditSender(url: string, token: string, timeoutMs = 10_000): AuditSender {
  return async (events) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is drained either way, so the keep-alive connection can be reused.
    const text = await response.text();
    if (!response.ok) throw new AuditDeliveryError(`audit ingest answered ${response.status}: ${text.slice(0, 200)}`);
  };
}
