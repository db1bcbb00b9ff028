import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { auditChange, badUserInput, clientError, ErrorCode, requireUser } from '@numezis/runtime';
import type { AuditChange } from '@numezis/runtime';
import { mfaAtIso, target } from '../audit.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { base32Encode, generateTotpSecret, otpauthUri, verifyTotp } from '@numezis/runtime';
import { userHasPasskey } from '../passkeys/passkeys.ts';
import { rotateSession } from '../sessions/sessions.ts';
import { users } from '../tables.ts';

// The secret is bound to its owner: a sealed value copied to another user's row does not open.
const totpAad = (userId: string) => `identity.users.totp_secret:${userId}`;
const pendingAad = (userId: string) => `identity.users.totp_pending:${userId}`;

const wrongCode = () => badUserInput('code', 'The code is wrong or was already used');

export function mfaResolvers({ dataAccess, settings, clock, throttle, secretBox }: IdentityDependencies) {
  /**
   * After a passed second factor: a fresh token for the session, marked with the MFA time. `audit`
   * when the session passing the step is the change the mutation records.
   */
  const completeMfaStep = async (
    context: IdentityContext,
    userId: string,
    sessionId: string,
    audit?: (mfaAt: Date) => AuditChange,
  ) => {
    const mfaAt = new Date(clock.now());
    const token = await dataAccess.inScope({ userId }, async (tx) => {
      const rotated = await rotateSession(tx, sessionId, { mfaAt });
      if (audit !== undefined) await auditChange(tx, audit(mfaAt));
      return rotated;
    });
    context.session.set(token, Math.floor(settings.sessionPolicy.absoluteMs / 1000));
  };

  const codeLimits = (context: IdentityContext, userId: string) => [
    { key: `totp:${userId}`, rule: settings.throttle.perTotpUser },
    { key: `ip:${context.forwarded.clientIp}`, rule: settings.throttle.perIp },
  ];

  /** Runs a code check under the brute-force limits; a wrong code is counted, then refused. */
  const checkCode = async (context: IdentityContext, userId: string, check: () => Promise<boolean>) => {
    const limits = codeLimits(context, userId);
    await throttle.assertAllowed(limits);
    if (!(await check())) {
      await throttle.recordFailure(limits);
      throw wrongCode();
    }
    await throttle.clear([`totp:${userId}`]);
  };

  return {
    Mutation: {
      beginTotpEnrolment: async (_: unknown, __: unknown, context: IdentityContext) => {
        const { userId } = requireUser(context.forwarded);
        const secret = generateTotpSecret();
        const email = await dataAccess.inScope({ userId }, async (tx) => {
          const [user] = await tx.select().from(users).where(eq(users.id, userId));
          if (user === undefined) throw clientError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
          // Replacing or adding a second factor needs the existing one (TOTP or a passkey): a stolen
          // password alone must not be enough to enrol the thief's authenticator.
          if (
            context.forwarded.mfaAt === null &&
            (user.totpSecretSealed !== null || (await userHasPasskey(tx, userId)))
          ) {
            throw clientError(ErrorCode.FORBIDDEN, 'Verify your current authenticator first', {
              reason: 'MFA_REQUIRED',
            });
          }
          await tx
            .update(users)
            .set({ totpPendingSealed: secretBox.seal(secret, pendingAad(userId)) })
            .where(eq(users.id, userId));
          // That an enrolment is pending, never the secret (sealed or not).
          await auditChange(tx, {
            targets: [target('User', userId)],
            before: { totpPending: user.totpPendingSealed !== null },
            after: { totpPending: true },
          });
          return user.email ?? user.displayName;
        });
        return {
          otpauthUri: otpauthUri({ secret, accountName: email, issuer: settings.totpIssuer }),
          secret: base32Encode(secret),
        };
      },

      confirmTotpEnrolment: async (_: unknown, { code }: { code: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        await checkCode(context, userId, () =>
          dataAccess.inScope({ userId }, async (tx) => {
            const [user] = await tx.select().from(users).where(eq(users.id, userId));
            if (user?.totpPendingSealed === null || user?.totpPendingSealed === undefined) {
              throw clientError(ErrorCode.BAD_REQUEST, 'Start the enrolment first');
            }
            const secret = await secretBox.open(user.totpPendingSealed, pendingAad(userId));
            const result = verifyTotp(secret, code, { clock, lastUsedStep: null });
            if (!result.ok) return false;
            await tx
              .update(users)
              .set({
                totpSecretSealed: secretBox.seal(secret, totpAad(userId)),
                totpPendingSealed: null,
                totpLastStep: result.step,
              })
              .where(eq(users.id, userId));
            // The authenticator becoming active is the change; the session's MFA mark follows it.
            await auditChange(tx, {
              targets: [target('User', userId), target('Session', sessionId)],
              before: { totpEnabled: user.totpSecretSealed !== null, totpPending: true },
              after: { totpEnabled: true, totpPending: false },
            });
            return true;
          }),
        );
        await completeMfaStep(context, userId, sessionId);
        return true;
      },

      verifyTotp: async (_: unknown, { code }: { code: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        await checkCode(context, userId, () =>
          dataAccess.inScope({ userId }, async (tx) => {
            const [user] = await tx.select().from(users).where(eq(users.id, userId));
            if (user?.totpSecretSealed === null || user?.totpSecretSealed === undefined) {
              throw clientError(ErrorCode.BAD_REQUEST, 'No authenticator is enrolled');
            }
            const secret = await secretBox.open(user.totpSecretSealed, totpAad(userId));
            const result = verifyTotp(secret, code, { clock, lastUsedStep: user.totpLastStep });
            if (!result.ok) return false;
            // Conditional on the step, so two requests racing with the same code cannot both pass.
            const [claimed] = await tx
              .update(users)
              .set({ totpLastStep: result.step })
              .where(and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, result.step))))
              .returning({ id: users.id });
            return claimed !== undefined;
          }),
        );
        // The session passing the second factor is what changes access, so it is recorded there.
        await completeMfaStep(context, userId, sessionId, (mfaAt) => ({
          targets: [target('User', userId), target('Session', sessionId)],
          before: { mfaAt: mfaAtIso(context.forwarded.mfaAt) },
          after: { mfaAt: mfaAt.toISOString(), method: 'TOTP' },
        }));
        return true;
      },
    },
  };
}
