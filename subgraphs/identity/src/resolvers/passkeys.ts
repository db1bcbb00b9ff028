import { and, eq } from 'drizzle-orm';
import { clientError, ErrorCode, isUuid, requireUser } from '@numezis/runtime';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import {
  beginAuthentication,
  beginRegistration,
  deletePasskey,
  finishRegistration,
  listPasskeys,
  verifyAssertion,
} from '../passkeys/passkeys.ts';
import type { PasskeyDependencies } from '../passkeys/passkeys.ts';
import { createSession, revokeSessions, rotateSession } from '../sessions/sessions.ts';
import { memberships, passkeys } from '../tables.ts';
import type { PasskeyRow, UserRow } from '../tables.ts';

const passkeyNotFound = () => clientError(ErrorCode.NOT_FOUND, 'Passkey not found');

// What an attacker replaying or forging assertions would see; malformed input is not a guess.
const countedFailures: ReadonlySet<unknown> = new Set([ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND]);

export function passkeyResolvers({ dataAccess, settings, clock, throttle, secretBox }: IdentityDependencies) {
  const { sessionPolicy } = settings;
  const passkeyDependencies: PasskeyDependencies = {
    dataAccess,
    secretBox,
    webauthn: settings.webauthn,
    clock,
  };
  const cookieMaxAge = Math.floor(sessionPolicy.absoluteMs / 1000);

  /** Runs an assertion check under the per-address limit; a failed one is counted, then refused. */
  const throttled = async <T>(context: IdentityContext, check: () => Promise<T>): Promise<T> => {
    const limits = [{ key: `ip:${context.forwarded.clientIp}`, rule: settings.throttle.perIp }];
    await throttle.assertAllowed(limits);
    try {
      return await check();
    } catch (error) {
      if (countedFailures.has((error as { extensions?: { code?: unknown } }).extensions?.code)) {
        await throttle.recordFailure(limits);
      }
      throw error;
    }
  };

  return {
    Mutation: {
      beginPasskeyRegistration: (_: unknown, __: unknown, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        return beginRegistration(passkeyDependencies, { userId, sessionId, mfaAt: context.forwarded.mfaAt });
      },

      finishPasskeyRegistration: async (
        _: unknown,
        args: { response: string; name: string },
        context: IdentityContext,
      ) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        const passkey = await finishRegistration(passkeyDependencies, { userId, sessionId }, args);
        // Creating a passkey with user verification is a multi-factor step, as confirming TOTP is:
        // a workspace that requires MFA opens right away.
        const token = await dataAccess.inScope({ userId }, (tx) =>
          rotateSession(tx, sessionId, { mfaAt: new Date(clock.now()) }),
        );
        context.session.set(token, cookieMaxAge);
        return passkey;
      },

      beginPasskeySignIn: (_: unknown, __: unknown, context: IdentityContext) => {
        const { actor } = context.forwarded;
        return beginAuthentication(
          passkeyDependencies,
          actor.kind === 'user' ? { userId: actor.userId, sessionId: actor.sessionId } : null,
        );
      },

      finishPasskeySignIn: async (_: unknown, { response }: { response: string }, context: IdentityContext) => {
        const { forwarded } = context;
        const current = forwarded.actor.kind === 'user' ? forwarded.actor : null;
        const { userId } = await throttled(context, () =>
          verifyAssertion(passkeyDependencies, {
            response,
            binding: { purpose: 'AUTHENTICATE', sessionId: current?.sessionId ?? null, allowUnbound: true },
          }),
        );
        const now = clock.now();
        const token = await dataAccess.inScope({ userId }, async (tx) => {
          // A new session at every sign-in; the one the request came with (if any) ends.
          if (current !== null) await revokeSessions(tx, current.userId, [current.sessionId], now);
          const [first] = await tx
            .select({ tenantId: memberships.tenantId })
            .from(memberships)
            .where(eq(memberships.userId, userId))
            .orderBy(memberships.createdAt)
            .limit(1);
          const created = await createSession(tx, {
            userId,
            clock,
            policy: sessionPolicy,
            ip: forwarded.clientIp,
            userAgent: forwarded.userAgent,
            activeWorkspaceId: first?.tenantId ?? null,
            method: 'PASSKEY',
            // The server demanded user verification: the passkey is both factors at once.
            mfaAt: new Date(now),
          });
          return created.token;
        });
        context.session.set(token, cookieMaxAge);
        return { mfaPending: false };
      },

      verifyPasskey: async (_: unknown, { response }: { response: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        await throttled(context, () =>
          verifyAssertion(passkeyDependencies, {
            response,
            userId,
            // Only a challenge this session asked for: one fetched anonymously cannot be spent here.
            binding: { purpose: 'AUTHENTICATE', userId, sessionId, allowUnbound: false },
          }),
        );
        const token = await dataAccess.inScope({ userId }, (tx) =>
          rotateSession(tx, sessionId, { mfaAt: new Date(clock.now()) }),
        );
        context.session.set(token, cookieMaxAge);
        return true;
      },

      revokePasskey: async (_: unknown, { id }: { id: string }, context: IdentityContext) => {
        const { userId } = requireUser(context.forwarded);
        if (!isUuid(id)) throw passkeyNotFound();
        await dataAccess.inScope({ userId }, async (tx) => {
          const [own] = await tx
            .select({ id: passkeys.id })
            .from(passkeys)
            .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
          if (own === undefined) throw passkeyNotFound();
          // Removing a factor needs that factor: with only a password, a thief could otherwise strip
          // the passkey and leave the account protected by the password alone.
          if (context.forwarded.mfaAt === null) {
            throw clientError(ErrorCode.FORBIDDEN, 'Verify your second factor first', { reason: 'MFA_REQUIRED' });
          }
          if (!(await deletePasskey(tx, userId, id))) throw passkeyNotFound();
        });
        return true;
      },
    },
    Me: {
      passkeys: (me: { user: UserRow }) =>
        dataAccess.inScope({ userId: me.user.id }, (tx) => listPasskeys(tx, me.user.id)),
    },
    Passkey: {
      createdAt: (passkey: PasskeyRow) => passkey.createdAt.toISOString(),
      lastUsedAt: (passkey: PasskeyRow) => passkey.lastUsedAt?.toISOString() ?? null,
    },
  };
}
