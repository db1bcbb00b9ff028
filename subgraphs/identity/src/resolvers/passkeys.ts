import { and, eq } from 'drizzle-orm';
import { auditChange, clientError, ErrorCode, isUuid, requireUser } from '@numezis/runtime';
import type { Tx } from '@numezis/runtime';
import { mfaAtIso, signInChange, target } from '../audit.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import type { IssuedChallenge } from '../passkeys/challenges.ts';
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

/** A stored challenge, recorded by its purpose and lifetime: its bytes are for the browser only. */
const recordChallenge =
  (userId: string | null) =>
  (tx: Tx, challenge: IssuedChallenge): Promise<void> =>
    auditChange(tx, {
      targets: userId === null ? [] : [target('User', userId)],
      before: null,
      after: { challengePurpose: challenge.purpose, expiresAt: challenge.expiresAt.toISOString() },
    });

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
        return beginRegistration(
          passkeyDependencies,
          { userId, sessionId, mfaAt: context.forwarded.mfaAt },
          recordChallenge(userId),
        );
      },

      finishPasskeyRegistration: async (
        _: unknown,
        args: { response: string; name: string },
        context: IdentityContext,
      ) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        // The passkey is the change; the session's MFA mark below follows from it.
        const passkey = await finishRegistration(passkeyDependencies, { userId, sessionId }, args, (tx, row) =>
          auditChange(tx, {
            targets: [target('Passkey', row.id), target('User', userId)],
            before: null,
            after: { name: row.name, transports: row.transports, createdAt: row.createdAt.toISOString() },
          }),
        );
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
        const caller = actor.kind === 'user' ? { userId: actor.userId, sessionId: actor.sessionId } : null;
        return beginAuthentication(passkeyDependencies, caller, recordChallenge(caller?.userId ?? null));
      },

      finishPasskeySignIn: async (_: unknown, { response }: { response: string }, context: IdentityContext) => {
        const { forwarded } = context;
        const current = forwarded.actor.kind === 'user' ? forwarded.actor : null;
        const { userId, passkeyId } = await throttled(context, () =>
          verifyAssertion(passkeyDependencies, {
            response,
            binding: { purpose: 'AUTHENTICATE', sessionId: current?.sessionId ?? null, allowUnbound: true },
          }),
        );
        const now = clock.now();
        const token = await dataAccess.inScope({ userId }, async (tx) => {
          // A new session at every sign-in; the one the request came with (if any) ends.
          const ended = current !== null && (await revokeSessions(tx, current.userId, [current.sessionId], now)) > 0;
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
          await auditChange(
            tx,
            signInChange(created.session, {
              replacedSessionId: ended ? current.sessionId : null,
              secondFactorPending: false,
              passkeyId,
            }),
          );
          return created.token;
        });
        context.session.set(token, cookieMaxAge);
        return { mfaPending: false };
      },

      verifyPasskey: async (_: unknown, { response }: { response: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        const { passkeyId } = await throttled(context, () =>
          verifyAssertion(passkeyDependencies, {
            response,
            userId,
            // Only a challenge this session asked for: one fetched anonymously cannot be spent here.
            binding: { purpose: 'AUTHENTICATE', userId, sessionId, allowUnbound: false },
          }),
        );
        const mfaAt = new Date(clock.now());
        // The session passing the second factor is what changes access, so it is recorded there.
        const token = await dataAccess.inScope({ userId }, async (tx) => {
          const rotated = await rotateSession(tx, sessionId, { mfaAt });
          await auditChange(tx, {
            targets: [target('User', userId), target('Session', sessionId), target('Passkey', passkeyId)],
            before: { mfaAt: mfaAtIso(context.forwarded.mfaAt) },
            after: { mfaAt: mfaAt.toISOString(), method: 'PASSKEY' },
          });
          return rotated;
        });
        context.session.set(token, cookieMaxAge);
        return true;
      },

      revokePasskey: async (_: unknown, { id }: { id: string }, context: IdentityContext) => {
        const { userId } = requireUser(context.forwarded);
        if (!isUuid(id)) throw passkeyNotFound();
        await dataAccess.inScope({ userId }, async (tx) => {
          const [own] = await tx
            .select({ id: passkeys.id, name: passkeys.name })
            .from(passkeys)
            .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
          if (own === undefined) throw passkeyNotFound();
          // Removing a factor needs that factor: with only a password, a thief could otherwise strip
          // the passkey and leave the account protected by the password alone.
          if (context.forwarded.mfaAt === null) {
            throw clientError(ErrorCode.FORBIDDEN, 'Verify your second factor first', { reason: 'MFA_REQUIRED' });
          }
          if (!(await deletePasskey(tx, userId, id))) throw passkeyNotFound();
          await auditChange(tx, {
            targets: [target('Passkey', id), target('User', userId)],
            before: { name: own.name },
            after: null,
          });
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
