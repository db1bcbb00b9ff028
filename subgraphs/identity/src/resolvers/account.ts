import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import {
  auditChange,
  badUserInput,
  clientError,
  ErrorCode,
  maskedEmail,
  requiredText,
  requireUser,
} from '@numezis/runtime';
import { sessionRevoked, signInChange, target } from '../audit.ts';
import { hashPassword, validatePasswordPolicy, verifyAgainstDummy, verifyPassword } from '../auth/password.ts';
import { hashToken, isWellFormedToken, newSecretToken, normaliseEmail } from '../auth/tokens.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { userHasPasskey } from '../passkeys/passkeys.ts';
import { createSession, listSessions, revokeSessions } from '../sessions/sessions.ts';
import { emailVerifications, fiduciaryLinks, memberships, tenants, users } from '../tables.ts';
import type { SessionRow } from '../tables.ts';

interface SignUpArgs {
  input: { email: string; password: string; displayName: string };
}
interface SignInArgs {
  input: { email: string; password: string };
}

const wrongCredentials = () => clientError(ErrorCode.UNAUTHENTICATED, 'Email or password is wrong');

export function accountResolvers({ dataAccess, settings, mailer, clock, throttle }: IdentityDependencies) {
  const { sessionPolicy } = settings;

  return {
    Query: {
      me: async (_: unknown, __: unknown, context: IdentityContext) => {
        if (context.forwarded.actor.kind !== 'user') return null;
        const { userId, sessionId } = context.forwarded.actor;
        return dataAccess.inScope({ userId }, async (tx) => {
          const [user] = await tx.select().from(users).where(eq(users.id, userId));
          if (user === undefined) return null;
          const access = await tx
            .select({ workspace: tenants, role: memberships.role })
            .from(memberships)
            .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
            .where(eq(memberships.userId, userId))
            .orderBy(tenants.name);
          // Client workspaces linked to a firm the person belongs to, unless they are a member there too.
          const linked = await tx
            .select({ workspace: tenants, role: fiduciaryLinks.role })
            .from(fiduciaryLinks)
            .innerJoin(memberships, eq(memberships.tenantId, fiduciaryLinks.fiduciaryTenantId))
            .innerJoin(tenants, eq(tenants.id, fiduciaryLinks.tenantId))
            .where(eq(memberships.userId, userId));
          const direct = new Set(access.map((entry) => entry.workspace.id));
          const workspaces = [...access, ...linked.filter((entry) => !direct.has(entry.workspace.id))];
          const sessions = await listSessions(tx, userId, clock.now(), sessionPolicy);
          return {
            user,
            email: user.email ?? '',
            totpEnabled: user.totpSecretSealed !== null,
            workspaces,
            sessions: sessions.map((session) => ({ ...session, current: session.id === sessionId })),
          };
        });
      },
    },
    Mutation: {
      signUp: async (_: unknown, { input }: SignUpArgs) => {
        const email = normaliseEmail(input.email);
        if (email === null) throw badUserInput('email', 'email must be an email address');
        const policyProblem = validatePasswordPolicy(input.password);
        if (policyProblem !== null) throw badUserInput('password', policyProblem);
        const displayName = requiredText(input.displayName, 'displayName');
        // Hash before looking the address up, so a taken address costs the same time as a new one.
        const passwordHash = await hashPassword(input.password);
        const token = newSecretToken();
        const created = await dataAccess.unsafeUnscoped(async (tx) => {
          const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
          if (existing !== undefined) return false;
          const userId = randomUUID();
          await tx.insert(users).values({ id: userId, displayName, email, passwordHash });
          await tx.insert(emailVerifications).values({
            tokenHash: hashToken(token),
            userId,
            expiresAt: new Date(clock.now() + settings.verificationTtlMs),
          });
          await auditChange(tx, {
            targets: [target('User', userId)],
            before: null,
            after: { displayName, email: maskedEmail(email), emailVerified: false },
            tenantId: null,
          });
          return true;
        });
        await mailer.send(
          created
            ? {
                to: email,
                subject: 'Confirm your Numezis account',
                text: `Confirm your email address with this code: ${token}`,
              }
            : {
                to: email,
                subject: 'Your Numezis account',
                text: 'Someone tried to create a Numezis account with this address, which already has one. If it was you, sign in instead.',
              },
        );
        // The same answer whether or not the address was taken: no account enumeration.
        return true;
      },

      verifyEmail: async (_: unknown, { token }: { token: string }) => {
        const invalid = () => clientError(ErrorCode.NOT_FOUND, 'This confirmation code is invalid or expired');
        if (!isWellFormedToken(token)) throw invalid();
        const now = new Date(clock.now());
        const verified = await dataAccess.unsafeUnscoped(async (tx) => {
          const [used] = await tx
            .update(emailVerifications)
            .set({ usedAt: now })
            .where(
              and(
                eq(emailVerifications.tokenHash, hashToken(token)),
                isNull(emailVerifications.usedAt),
                gt(emailVerifications.expiresAt, now),
              ),
            )
            .returning({ userId: emailVerifications.userId });
          if (used === undefined) return false;
          await tx.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, used.userId));
          await auditChange(tx, {
            targets: [target('User', used.userId)],
            before: { emailVerifiedAt: null },
            after: { emailVerifiedAt: now.toISOString() },
            tenantId: null,
          });
          return true;
        });
        if (!verified) throw invalid();
        return true;
      },

      signIn: async (_: unknown, { input }: SignInArgs, context: IdentityContext) => {
        const email = normaliseEmail(input.email);
        const accountKey = `password:${email ?? input.email.trim().toLowerCase().slice(0, 254)}`;
        const limits = [
          { key: accountKey, rule: settings.throttle.perAccount },
          { key: `ip:${context.forwarded.clientIp}`, rule: settings.throttle.perIp },
        ];
        await throttle.assertAllowed(limits);
        const [user] =
          email === null
            ? []
            : await dataAccess.unsafeUnscoped((tx) => tx.select().from(users).where(eq(users.email, email)));
        const passwordHash = user?.passwordHash ?? null;
        const valid =
          passwordHash === null
            ? await verifyAgainstDummy(input.password)
            : await verifyPassword(input.password, passwordHash);
        if (user === undefined || !valid) {
          await throttle.recordFailure(limits);
          throw wrongCredentials();
        }
        await throttle.clear([accountKey]);
        if (user.emailVerifiedAt === null) {
          throw clientError(ErrorCode.UNAUTHENTICATED, 'Confirm your email address first', {
            reason: 'EMAIL_NOT_VERIFIED',
          });
        }
        const { forwarded } = context;
        const { token, mfaPending } = await dataAccess.inScope({ userId: user.id }, async (tx) => {
          // A new session at every sign-in; the one the request came with (if any) ends.
          const current = forwarded.actor.kind === 'user' ? forwarded.actor : null;
          const ended =
            current !== null && (await revokeSessions(tx, current.userId, [current.sessionId], clock.now())) > 0;
          const [first] = await tx
            .select({ tenantId: memberships.tenantId })
            .from(memberships)
            .where(eq(memberships.userId, user.id))
            .orderBy(memberships.createdAt)
            .limit(1);
          const created = await createSession(tx, {
            userId: user.id,
            clock,
            policy: sessionPolicy,
            ip: forwarded.clientIp,
            userAgent: forwarded.userAgent,
            activeWorkspaceId: first?.tenantId ?? null,
          });
          // A passkey is a second factor as much as TOTP is (see resolveSession).
          const secondFactorPending = user.totpSecretSealed !== null || (await userHasPasskey(tx, user.id));
          await auditChange(
            tx,
            signInChange(created.session, {
              replacedSessionId: ended ? current.sessionId : null,
              secondFactorPending,
            }),
          );
          return { token: created.token, mfaPending: secondFactorPending };
        });
        context.session.set(token, Math.floor(sessionPolicy.absoluteMs / 1000));
        return { mfaPending };
      },

      signOut: async (_: unknown, __: unknown, context: IdentityContext) => {
        context.session.clear();
        if (context.forwarded.actor.kind !== 'user') return true;
        const { userId, sessionId } = context.forwarded.actor;
        const now = new Date(clock.now());
        await dataAccess.inScope({ userId }, async (tx) => {
          // A session already ended changes nothing: the wrapper's plain event says it was asked.
          if ((await revokeSessions(tx, userId, [sessionId], now.getTime())) > 0) {
            await auditChange(tx, sessionRevoked(sessionId, now));
          }
        });
        return true;
      },

      revokeSession: async (_: unknown, { id }: { id: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        const now = new Date(clock.now());
        const revoked = await dataAccess.inScope({ userId }, async (tx) => {
          const count = await revokeSessions(tx, userId, [id], now.getTime());
          if (count > 0) await auditChange(tx, sessionRevoked(id, now));
          return count;
        });
        if (revoked === 0) throw clientError(ErrorCode.NOT_FOUND, 'Session not found');
        if (id === sessionId) context.session.clear();
        return true;
      },
    },
    Session: {
      createdAt: (session: SessionRow) => session.createdAt.toISOString(),
      lastSeenAt: (session: SessionRow) => session.lastSeenAt.toISOString(),
      mfa: (session: SessionRow) => session.mfaAt !== null,
    },
  };
}
