import { dataOf, graphql } from './client.ts';
import type { Caller } from './client.ts';
import { subscribe } from './subscriptions.ts';
import type { SubscriptionCaller } from './subscriptions.ts';

/** An audit event as the graph shows it, with every audit-owned field. */
export interface AuditEventData {
  readonly id: string;
  readonly sequence: number;
  readonly action: string;
  readonly source: string;
  readonly outcome: 'SUCCESS' | 'DENIED' | 'FAILED';
  readonly reason: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly performedBy: { kind: string; id: string | null; sessionId: string | null; mfa: boolean | null };
  readonly targets: { type: string; id: string }[];
  readonly before: string | null;
  readonly after: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly retention: 'ACCOUNTING' | 'STANDARD';
  readonly retainUntil: string | null;
  readonly hash: string;
}

export const auditEventFields = `id sequence action source outcome reason occurredAt recordedAt
  performedBy { kind id sessionId mfa } targets { type id } before after requestId ip userAgent retention
  retainUntil hash`;

export const auditFeed = `subscription ($after: Int) { auditEvents(afterSequence: $after) { ${auditEventFields} } }`;

/**
 * The workspace's events from `afterSequence` on, through the export subscription, until `done`
 * says the ones a test waits for have arrived (the relay delivers within moments). Fails after
 * `timeoutMs` with what had arrived, so a missing event names itself.
 */
export async function awaitAuditEvents(
  gatewayUrl: string,
  caller: SubscriptionCaller,
  done: (events: readonly AuditEventData[]) => boolean,
  options: { afterSequence?: number; timeoutMs?: number } = {},
): Promise<AuditEventData[]> {
  const feed = subscribe<{ auditEvents: AuditEventData }>(gatewayUrl, caller, auditFeed, {
    after: options.afterSequence ?? 0,
  });
  const events: AuditEventData[] = [];
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`audit events still missing after ${timeoutMs} ms; got ${JSON.stringify(events, null, 1)}`)),
      timeoutMs,
    );
  });
  try {
    while (!done(events)) {
      const result = await Promise.race([feed.next(), timeout]);
      if (result.errors !== undefined || result.data?.auditEvents === undefined) {
        throw new Error(`audit subscription failed: ${JSON.stringify(result)}`);
      }
      events.push(result.data.auditEvents);
    }
    return events;
  } finally {
    clearTimeout(timer);
    await feed.dispose();
  }
}

/** The events of one request, by its x-request-id, once `count` of them arrived. */
export async function eventsOfRequest(
  gatewayUrl: string,
  caller: SubscriptionCaller,
  requestId: string,
  count = 1,
): Promise<AuditEventData[]> {
  const events = await awaitAuditEvents(
    gatewayUrl,
    caller,
    (seen) => seen.filter((event) => event.requestId === requestId).length >= count,
  );
  return events.filter((event) => event.requestId === requestId);
}

/** The newest events matching `filter`, by query. */
export async function queryAuditEvents(
  gatewayUrl: string,
  caller: Caller,
  filter: Record<string, unknown> = {},
  first = 200,
): Promise<AuditEventData[]> {
  const data = dataOf(
    await graphql<{ auditEvents: AuditEventData[] }>(
      gatewayUrl,
      `query ($filter: AuditEventFilter, $first: Int!) { auditEvents(first: $first, filter: $filter) { ${auditEventFields} } }`,
      { as: caller, variables: { filter, first } },
    ),
  );
  return data.auditEvents;
}
