import type { AuditActor, AuditTarget } from '@numezis/runtime';
import type { AuditEventRow } from '../tables.ts';

/**
 * An event as the graph shows it (query, export and subscription alike): audit-owned fields only,
 * plain JSON so it can travel through Redis to other replicas' subscribers.
 */
export interface AuditEventView {
  readonly tenantId: string;
  readonly id: string;
  readonly sequence: number;
  readonly action: string;
  readonly source: string;
  readonly outcome: 'SUCCESS' | 'DENIED' | 'FAILED';
  readonly reason: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actorUserId: string | null;
  readonly performedBy: {
    readonly kind: 'USER' | 'API_KEY' | 'ANONYMOUS' | 'SYSTEM';
    readonly id: string | null;
    readonly sessionId: string | null;
    readonly mfa: boolean | null;
  };
  readonly targets: readonly AuditTarget[];
  readonly before: string | null;
  readonly after: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly retention: 'ACCOUNTING' | 'STANDARD';
  readonly statutoryUntil: string | null;
  readonly hash: string;
}

function performedBy(actor: AuditActor): AuditEventView['performedBy'] {
  switch (actor.kind) {
    case 'user':
      return { kind: 'USER', id: actor.userId, sessionId: actor.sessionId, mfa: actor.mfa };
    case 'apiKey':
      return { kind: 'API_KEY', id: actor.keyId, sessionId: null, mfa: null };
    case 'system':
      return { kind: 'SYSTEM', id: actor.job, sessionId: null, mfa: null };
    default:
      return { kind: 'ANONYMOUS', id: null, sessionId: null, mfa: null };
  }
}

export function eventView(row: AuditEventRow): AuditEventView {
  return {
    tenantId: row.tenantId,
    id: row.id,
    sequence: row.seq,
    action: row.action,
    source: row.source,
    outcome: row.outcome.toUpperCase() as AuditEventView['outcome'],
    reason: row.reason,
    occurredAt: row.occurredAt.toISOString(),
    recordedAt: row.recordedAt.toISOString(),
    actorUserId: row.actorUserId,
    performedBy: performedBy(row.actor),
    targets: row.targets,
    before: row.before === null ? null : JSON.stringify(row.before),
    after: row.after === null ? null : JSON.stringify(row.after),
    requestId: row.requestId,
    ip: row.ip,
    userAgent: row.userAgent,
    retention: row.retention.toUpperCase() as AuditEventView['retention'],
    statutoryUntil: row.statutoryUntil?.toISOString() ?? null,
    hash: row.hash.toString('hex'),
  };
}
