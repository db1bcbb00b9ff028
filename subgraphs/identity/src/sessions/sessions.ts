import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { maxPortfolioClients, rolePermissions } from '@numezis/runtime';
import type { Clock, DataAccess, PortfolioAccess, RequestAccess, Tx } from '@numezis/runtime';
import { hashToken, isWellFormedToken, newSecretToken } from '../auth/tokens.ts';
import { customRolePermissions } from '../custom-role-permissions.ts';
import { userHasPasskey } from '../passkeys/passkeys.ts';
import { customRoles, fiduciaryLinks, memberships, sessions, tenants, users } from '../tables.ts';
import type { SessionRow } from '../tables.ts';

export interface SessionPolicy {
  /** A session unused for this long ends. */
  readonly idleMs: number;
  /** A session ends this long after sign-in, however busy. */
  readonly absoluteMs: number;
}

/** What the gateway needs to know about the caller of one request. */
export interface ResolvedSession {
  readonly sessionId: string;
  readonly userId: string;
  /**
   * The requested (or active) workspace, or the requested firm's portfolio; `account` when the
   * person belongs to no workspace of that id.
   */
  readonly access: RequestAccess;
  readonly mfaAt: number | null;
  readonly mfaRequired: boolean;
}

// Refreshing last_seen_at on every request would write on every read; a minute is precise enough
// for an idle timeout counted in tens of minutes.
const lastSeenResolutionMs = 60_000;

export async function createSession(
  tx: Tx,
  options: {
    userId: string;
    clock: Clock;
    policy: SessionPolicy;
    ip: string;
    userAgent: string | null;
    activeWorkspaceId: string | null;
    /** How the person proved who they are; a passkey with user verification is itself MFA. */
    method?: 'PASSWORD' | 'PASSKEY';
    mfaAt?: Date | null;
  },
): Promise<{ token: string; session: SessionRow }> {
  const token = newSecretToken();
  const now = new Date(options.clock.now());
  const [session] = await tx
    .insert(sessions)
    .values({
      id: randomUUID(),
      userId: options.userId,
      tokenHash: hashToken(token),
      authenticatedWith: options.method ?? 'PASSWORD',
      mfaAt: options.mfaAt ?? null,
      activeWorkspaceId: options.activeWorkspaceId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + options.policy.absoluteMs),
      ip: options.ip,
      userAgent: options.userAgent,
    })
    .returning();
  if (session === undefined) throw new Error('session insert returned no row');
  return { token, session };
}

/**
 * Replaces the session's token (after an MFA step or any change of privilege), so a token observed
 * before the step is worthless after it.
 */
export async function rotateSession(tx: Tx, sessionId: string, changes: { mfaAt?: Date } = {}): Promise<string> {
  const token = newSecretToken();
  await tx
    .update(sessions)
    .set({ tokenHash: hashToken(token), ...changes })
    .where(eq(sessions.id, sessionId));
  return token;
}

export function isUsable(session: SessionRow, now: number, policy: SessionPolicy): boolean {
  return (
    session.revokedAt === null &&
    now < session.expiresAt.getTime() &&
    now - session.lastSeenAt.getTime() < policy.idleMs
  );
}

/**
 * What a member of a fiduciary firm may read across the firm's clients: one client per link of the
 * firm, with the link's role. Null when the person is not a member of the firm themselves (a link
 * into the firm does not count: portfolios do not chain).
 */
async function readPortfolio(
  tx: Tx,
  userId: string,
  firmTenantId: string,
): Promise<{ access: PortfolioAccess; mfaRequired: boolean } | null> {
  const [firm] = await tx
    .select({ mfaRequired: tenants.mfaRequired })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(and(eq(memberships.userId, userId), eq(memberships.tenantId, firmTenantId)));
  if (firm === undefined) return null;
  // The person's scope shows a firm's links to its members only (fiduciary_links' policy), and the
  // client workspaces through those links. The signed context travels in a header, so a portfolio
  // holds at most maxPortfolioClients: the first by client id; the rest are not read at all.
  const links = await tx
    .select({ tenantId: fiduciaryLinks.tenantId, role: fiduciaryLinks.role, mfaRequired: tenants.mfaRequired })
    .from(fiduciaryLinks)
    .innerJoin(tenants, eq(tenants.id, fiduciaryLinks.tenantId))
    .where(eq(fiduciaryLinks.fiduciaryTenantId, firmTenantId))
    .orderBy(asc(fiduciaryLinks.tenantId))
    .limit(maxPortfolioClients);
  return {
    access: {
      kind: 'portfolio',
      firmTenantId,
      clients: links.map((link) => ({
        tenantId: link.tenantId,
        role: link.role,
        permissions: rolePermissions[link.role],
      })),
    },
    // A client that demands MFA of everyone working in it demands it of its fiduciary's readers too.
    mfaRequired: firm.mfaRequired || links.some((link) => link.mfaRequired),
  };
}

/**
 * Turns a session cookie into the caller's identity and access in the requested workspace (or the
 * session's active one), or across the requested fiduciary firm's portfolio. A workspace or firm the
 * person is not a member of gives no access at all rather than silently acting in another one.
 */
export async function resolveSession(
  dataAccess: DataAccess,
  request: {
    token: string;
    requestedWorkspaceId: string | null;
    /** The firm whose portfolio to read; never together with a workspace. */
    requestedPortfolioFirmId?: string | null;
    clock: Clock;
    policy: SessionPolicy;
  },
): Promise<ResolvedSession | null> {
  const portfolioFirmId = request.requestedPortfolioFirmId ?? null;
  if (portfolioFirmId !== null && request.requestedWorkspaceId !== null) return null;
  if (!isWellFormedToken(request.token)) return null;
  const now = request.clock.now();
  const session = await dataAccess.unsafeUnscoped(async (tx) => {
    const [row] = await tx
      .select()
      .from(sessions)
      .where(eq(sessions.tokenHash, hashToken(request.token)));
    return row;
  });
  if (session === undefined || !isUsable(session, now, request.policy)) return null;

  return dataAccess.inScope({ userId: session.userId }, async (tx) => {
    const [user] = await tx
      .select({ totpSecretSealed: users.totpSecretSealed })
      .from(users)
      .where(eq(users.id, session.userId));
    const portfolio = portfolioFirmId === null ? null : await readPortfolio(tx, session.userId, portfolioFirmId);
    // A portfolio request acts in no single workspace, not even the session's active one.
    const workspaceId = portfolioFirmId === null ? (request.requestedWorkspaceId ?? session.activeWorkspaceId) : null;
    const [direct] =
      workspaceId === null
        ? []
        : await tx
            .select({ role: memberships.role, mfaRequired: tenants.mfaRequired, customRole: customRoles })
            .from(memberships)
            .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
            .leftJoin(customRoles, eq(customRoles.id, memberships.customRoleId))
            .where(and(eq(memberships.userId, session.userId), eq(memberships.tenantId, workspaceId)));
    // No individual membership: perhaps the person works here for a fiduciary firm linked to it.
    const [linked] =
      workspaceId === null || direct !== undefined
        ? []
        : await tx
            .select({ role: fiduciaryLinks.role, mfaRequired: tenants.mfaRequired })
            .from(fiduciaryLinks)
            .innerJoin(
              memberships,
              and(eq(memberships.tenantId, fiduciaryLinks.fiduciaryTenantId), eq(memberships.userId, session.userId)),
            )
            .innerJoin(tenants, eq(tenants.id, fiduciaryLinks.tenantId))
            .where(eq(fiduciaryLinks.tenantId, workspaceId))
            .limit(1);
    const membership = direct ?? (linked === undefined ? undefined : { ...linked, customRole: null });
    if (now - session.lastSeenAt.getTime() > lastSeenResolutionMs) {
      await tx
        .update(sessions)
        .set({ lastSeenAt: new Date(now) })
        .where(and(eq(sessions.id, session.id), isNull(sessions.revokedAt)));
    }
    // A passkey is a second factor like TOTP: a password-only session must pass one before acting.
    // Looked up only while the session has passed none, so a full session costs no extra query.
    const hasSecondFactor =
      (user?.totpSecretSealed !== null && user?.totpSecretSealed !== undefined) ||
      (session.mfaAt === null && (await userHasPasskey(tx, session.userId)));
    const mfaRequired =
      session.mfaAt === null &&
      (hasSecondFactor || membership?.mfaRequired === true || portfolio?.mfaRequired === true);
    const access: RequestAccess =
      portfolio !== null
        ? { ...portfolio.access, clients: mfaRequired ? [] : portfolio.access.clients }
        : membership === undefined || workspaceId === null
          ? { kind: 'account' }
          : {
              kind: 'tenant',
              tenantId: workspaceId,
              role: membership.role,
              permissions: mfaRequired
                ? []
                : membership.customRole
                  ? customRolePermissions(membership.customRole)
                  : rolePermissions[membership.role],
            };
    return {
      sessionId: session.id,
      userId: session.userId,
      access,
      mfaAt: session.mfaAt === null ? null : Math.floor(session.mfaAt.getTime() / 1000),
      mfaRequired,
    };
  });
}

export async function listSessions(tx: Tx, userId: string, now: number, policy: SessionPolicy): Promise<SessionRow[]> {
  const rows = await tx.select().from(sessions).where(eq(sessions.userId, userId));
  return rows
    .filter((row) => isUsable(row, now, policy))
    .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
}

export async function revokeSessions(tx: Tx, userId: string, ids: readonly string[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: new Date(now) })
    .where(and(eq(sessions.userId, userId), inArray(sessions.id, [...ids]), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length;
}

/** Ends every session of a person (after a password reset, or when an Admin says so). */
export async function revokeAllSessions(tx: Tx, userId: string, now: number): Promise<number> {
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: new Date(now) })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length;
}
