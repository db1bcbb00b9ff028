import type { AuditRetention } from '@numezis/schema';
import { isUuid } from '../context/signed-context.ts';
import type { ForwardedContext } from '../context/signed-context.ts';

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** Who acted, and how they proved it. */
export type AuditActor =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly userId: string; readonly sessionId: string | null; readonly mfa: boolean }
  | { readonly kind: 'apiKey'; readonly keyId: string }
  | { readonly kind: 'system'; readonly job: string };

export interface AuditTarget {
  readonly type: string;
  readonly id: string;
}

export type AuditOutcome = 'success' | 'denied' | 'failed';

/**
 * One audit event as it travels from a service's outbox to the audit subgraph. Personal data never
 * appears in `before`/`after` in the clear: the recording code masks it (see `masking.ts`).
 */
export interface AuditEvent {
  /** Chosen where the event happens; the audit subgraph appends each id once (idempotency key). */
  readonly id: string;
  /** The workspace whose trail holds the event; null for events of no workspace (a sign-up). */
  readonly tenantId: string | null;
  readonly source: string;
  readonly action: string;
  readonly retention: AuditRetention;
  readonly actor: AuditActor;
  readonly targets: readonly AuditTarget[];
  readonly before: JsonObject | null;
  readonly after: JsonObject | null;
  readonly outcome: AuditOutcome;
  /** The error code (and reason) of a denied or failed attempt. */
  readonly reason: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** ISO 8601 in UTC. */
  readonly occurredAt: string;
}

/** The actor of a request, as the audit trail names it. */
export function auditActorOf(context: ForwardedContext): AuditActor {
  const { actor } = context;
  switch (actor.kind) {
    case 'user':
      return { kind: 'user', userId: actor.userId, sessionId: actor.sessionId, mfa: context.mfaAt !== null };
    case 'apiKey':
      return { kind: 'apiKey', keyId: actor.keyId };
    default:
      return { kind: 'anonymous' };
  }
}

/** The workspace a request acts in, for its audit events: the firm's own in portfolio mode. */
export function auditTenantOf(context: ForwardedContext): string | null {
  const { access } = context;
  if (access.kind === 'tenant') return access.tenantId;
  if (access.kind === 'portfolio') return access.firmTenantId;
  return null;
}

const maxUserAgent = 512;

/** What a request contributes to each of its events: who, from where, which request. */
export function requestOrigin(context: ForwardedContext) {
  return {
    requestId: context.requestId,
    ip: context.clientIp,
    userAgent: context.userAgent === null ? null : context.userAgent.slice(0, maxUserAgent),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const nullableString = (value: unknown, max: number) =>
  value === null || (typeof value === 'string' && value.length <= max);

function isActor(value: unknown): value is AuditActor {
  if (!isRecord(value)) return false;
  switch (value.kind) {
    case 'anonymous':
      return true;
    case 'user':
      return (
        isUuid(value.userId) && (value.sessionId === null || isUuid(value.sessionId)) && typeof value.mfa === 'boolean'
      );
    case 'apiKey':
      return isUuid(value.keyId);
    case 'system':
      return typeof value.job === 'string' && /^[a-z][a-z0-9.-]{0,63}$/.test(value.job);
    default:
      return false;
  }
}

const isJsonObjectOrNull = (value: unknown) => value === null || isRecord(value);

/**
 * Strict check of an event received over the wire: the audit subgraph stores nothing else. Returns
 * the reason it is refused, or null.
 */
export function auditEventProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'not an object';
  if (!isUuid(value.id)) return 'id must be a UUID';
  if (!(value.tenantId === null || isUuid(value.tenantId))) return 'tenantId must be a UUID or null';
  if (typeof value.source !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(value.source)) return 'bad source';
  if (typeof value.action !== 'string' || !/^[a-z_]+\.[a-z_]+$/.test(value.action)) return 'bad action';
  if (value.retention !== 'accounting' && value.retention !== 'standard') return 'bad retention';
  if (!isActor(value.actor)) return 'bad actor';
  if (
    !Array.isArray(value.targets) ||
    value.targets.length > 50 ||
    !value.targets.every(
      (target) => isRecord(target) && typeof target.type === 'string' && typeof target.id === 'string',
    )
  ) {
    return 'bad targets';
  }
  if (!isJsonObjectOrNull(value.before) || !isJsonObjectOrNull(value.after)) return 'before and after must be objects';
  if (!['success', 'denied', 'failed'].includes(value.outcome as string)) return 'bad outcome';
  if (!nullableString(value.reason, 200)) return 'bad reason';
  if (!nullableString(value.requestId, 200)) return 'bad requestId';
  if (!nullableString(value.ip, 100)) return 'bad ip';
  if (!nullableString(value.userAgent, maxUserAgent)) return 'bad userAgent';
  if (typeof value.occurredAt !== 'string' || Number.isNaN(Date.parse(value.occurredAt))) return 'bad occurredAt';
  return null;
}
