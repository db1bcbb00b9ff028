import type { ForwardedContext } from '../context/signed-context.ts';

/**
 * A refused or fruitless attempt at data: a FORBIDDEN or UNAUTHENTICATED decision, or a by-id miss.
 * Under row-level security another workspace's id is indistinguishable from a missing one, so every
 * miss counts as a possible probe.
 */
export interface DeniedAttempt {
  /** `Type.field` that was refused or missed. */
  readonly field: string;
  readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';
  /** The decision's detail (a missing permission, MFA_REQUIRED, ...), when there is one. */
  readonly reason?: string;
  readonly context: ForwardedContext;
}

export interface AccessDenials {
  record(attempt: DeniedAttempt): void;
  /** Attempts so far in this process, by `field code`: a per-replica counter, as metrics are. */
  counts(): ReadonlyMap<string, number>;
}

type DenialListener = (attempt: DeniedAttempt) => void;
const listeners = new Set<DenialListener>();

/** Tells `listener` of every attempt any AccessDenials of this process records (the metrics count them). */
export function onAccessDenied(listener: DenialListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

interface WarnLogger {
  warn(entry: object, message: string): void;
}

/**
 * Logs each attempt as `possible unauthorized access attempt` with who, where and what, but nothing a
 * client typed: no arguments, no ids it asked for, no address.
 */
export function createAccessDenials(
  log: WarnLogger,
  service: string,
  /** Also told of each attempt: the audit trail records the refusals. */
  sink?: DenialListener,
): AccessDenials {
  const counts = new Map<string, number>();
  return {
    record(attempt) {
      const { field, code, reason, context } = attempt;
      for (const listener of listeners) listener(attempt);
      sink?.(attempt);
      const key = `${field} ${code}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      const { actor, access } = context;
      log.warn(
        {
          event: 'access_denied',
          service,
          field,
          code,
          ...(reason === undefined ? {} : { reason }),
          requestId: context.requestId,
          actor:
            actor.kind === 'user'
              ? `user:${actor.userId}`
              : actor.kind === 'apiKey'
                ? `apiKey:${actor.keyId}`
                : 'anonymous',
          access: access.kind,
          ...(access.kind === 'tenant' ? { tenantId: access.tenantId } : {}),
          ...(access.kind === 'portfolio' ? { tenantId: access.firmTenantId } : {}),
          count,
        },
        'possible unauthorized access attempt',
      );
    },
    counts: () => counts,
  };
}
