import type { AuditActor, AuditChange, AuditTarget } from '@numezis/runtime';
import type { SessionRow } from './tables.ts';

/** What identity's audit events name as changed; one list, so a misspelt type fails the build. */
export type IdentityTargetType =
  'User' | 'Tenant' | 'Session' | 'ApiKey' | 'Member' | 'Invitation' | 'CustomRole' | 'FiduciaryLink' | 'Passkey';

export const target = (type: IdentityTargetType, id: string): AuditTarget => ({ type, id });

/** Instants in before/after images are ISO 8601 strings, like the event's own `occurredAt`. */
export const isoOrNull = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;

/** The forwarded context's MFA time (seconds), as an image field. */
export const mfaAtIso = (seconds: number | null): string | null =>
  seconds === null ? null : new Date(seconds * 1000).toISOString();

/**
 * A sign-in's event: the request came in anonymous (or with the session it ends), so the actor is
 * the person of the session it made, and the event belongs to no workspace.
 */
export function signInChange(
  session: SessionRow,
  extra: {
    readonly replacedSessionId: string | null;
    /** A password sign-in of someone with a second factor: the session is held until it passes. */
    readonly secondFactorPending: boolean;
    readonly passkeyId?: string;
  },
): AuditChange {
  return {
    targets: [
      target('User', session.userId),
      target('Session', session.id),
      ...(extra.replacedSessionId === null ? [] : [target('Session', extra.replacedSessionId)]),
      ...(extra.passkeyId === undefined ? [] : [target('Passkey', extra.passkeyId)]),
    ],
    before: null,
    after: {
      authenticatedWith: session.authenticatedWith,
      mfa: session.mfaAt !== null,
      activeWorkspaceId: session.activeWorkspaceId,
      expiresAt: session.expiresAt.toISOString(),
      replacedSessionId: extra.replacedSessionId,
      secondFactorPending: extra.secondFactorPending,
    },
    tenantId: null,
    actor: sessionActor(session),
  };
}

function sessionActor(session: SessionRow): AuditActor {
  return { kind: 'user', userId: session.userId, sessionId: session.id, mfa: session.mfaAt !== null };
}

/** One session ended: the person's own sign-out or revocation. */
export const sessionRevoked = (sessionId: string, revokedAt: Date): AuditChange => ({
  targets: [target('Session', sessionId)],
  before: { revokedAt: null },
  after: { revokedAt: revokedAt.toISOString() },
});
