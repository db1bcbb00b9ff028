import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { auditEventProblem, auditIngestPath, ErrorCode, errorBody } from '@numezis/runtime';
import type { AuditEvent } from '@numezis/runtime';

const maxEventsPerDelivery = 1_000;

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `POST /internal/audit/events`: the services' outbox relays and the gateway deliver events here.
 * Not behind a gateway signature (the gateway cannot sign for the services' relays) but behind the
 * shared AUDIT_INGEST_TOKEN; the subgraph listens on the internal network only. Every event is
 * checked field by field before anything is stored; a delivery is all or nothing per workspace.
 */
export function registerIngestRoute(
  app: FastifyInstance,
  token: string | null,
  store: (events: readonly AuditEvent[]) => Promise<number>,
): void {
  const expected = token === null ? null : digest(token);
  app.post(auditIngestPath, { bodyLimit: 8 * 1024 * 1024 }, async (request, reply) => {
    const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (expected === null || presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      request.log.warn({ ip: request.ip }, 'audit delivery without a valid ingest token refused');
      return reply
        .status(401)
        .send(errorBody(ErrorCode.UNAUTHENTICATED, 'A valid ingest token is required', request.id));
    }
    const events = (request.body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events) || events.length === 0 || events.length > maxEventsPerDelivery) {
      return reply
        .status(400)
        .send(errorBody(ErrorCode.BAD_REQUEST, `events must be 1 to ${maxEventsPerDelivery} audit events`, request.id));
    }
    for (const [index, event] of events.entries()) {
      const problem = auditEventProblem(event);
      if (problem !== null) {
        request.log.error({ index, problem }, 'audit delivery with an invalid event refused');
        return reply.status(422).send(errorBody(ErrorCode.BAD_USER_INPUT, `event ${index}: ${problem}`, request.id));
      }
    }
    const appended = await store(events as AuditEvent[]);
    return { accepted: events.length, appended };
  });
}
