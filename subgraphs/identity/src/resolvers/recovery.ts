import { randomBytes } from 'node:crypto';
import { and, count, eq, gt, isNull } from 'drizzle-orm';
import { auditChange, badUserInput, requireRecentMfa, requireUser } from '@numezis/runtime';
import { mfaAtIso, target } from '../audit.ts';
import { hashPassword, validatePasswordPolicy } from '../auth/password.ts';
import { hashToken, isWellFormedToken, newSecretToken, normaliseEmail } from '../auth/tokens.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { base32Encode } from '@numezis/runtime';
import { revokeAllSessions, rotateSession } from '../sessions/sessions.ts';
import { passwordResets, recoveryCodes, users } from '../tables.ts';

const recoveryCodeCount = 10;
const resetTtlMs = 60 * 60_000;

/** "abcde-fghij" and "ABCDEFGHIJ" are the same code: people copy them by hand. */
const normaliseCode = (code: string) => code.replaceAll(/[\s-]/g, '').toUpperCase();

function newRecoveryCode(): string {
  const text = base32Encode(randomBytes(7)).slice(0, 10);
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

export function recoveryResolvers({ dataAccess, settings, mailer, clock, throttle }: IdentityDependencies) {
  return {
    Mutation: {
      requestPasswordReset: async (_: unknown, { email: raw }: { email: string }) => {
        const email = normaliseEmail(raw);
        if (email === null) return true;
        // Limit mails per address; the answer never changes, so nobody learns who has an account.
        const limit = [{ key: `reset:${email}`, rule: settings.throttle.perAccount }];
        const allowed = await throttle.assertAllowed(limit).then(
          () => true,
          () => false,
        );
        if (!allowed) return true;
        await throttle.recordFailure(limit);
        const token = newSecretToken();
        const found = await dataAccess.unsafeUnscoped(async (tx) => {
          const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
          if (user === undefined) return false;
          const expiresAt = new Date(clock.now() + resetTtlMs);
          await tx.insert(passwordResets).values({ tokenHash: hashToken(token), userId: user.id, expiresAt });
          // Only an address with an account gets here; the answer and the timing stay the same.
          await auditChange(tx, {
            targets: [target('User', user.id)],
            before: null,
            after: { resetExpiresAt: expiresAt.toISOString() },
            tenantId: null,
          });
          return true;
        });
        if (found) {
          await mailer.send({
            to: email,
            subject: 'Reset your Numezis password',
            text: `Choose a new password with this code within an hour: ${token}`,
          });
        }
        return true;
      },

      resetPassword: async (_: unknown, args: { token: string; newPassword: string }) => {
        const problem = validatePasswordPolicy(args.newPassword);
        if (problem !== null) throw badUserInput('newPassword', problem);
        const invalid = () => badUserInput('token', 'This reset code is invalid or expired');
        if (!isWellFormedToken(args.token)) throw invalid();
        const passwordHash = await hashPassword(args.newPassword);
        const now = new Date(clock.now());
        const reset = await dataAccess.unsafeUnscoped(async (tx) => {
          const [used] = await tx
            .update(passwordResets)
            .set({ usedAt: now })
            .where(
              and(
                eq(passwordResets.tokenHash, hashToken(args.token)),
                isNull(passwordResets.usedAt),
                gt(passwordResets.expiresAt, now),
              ),
            )
            .returning({ userId: passwordResets.userId });
          if (used === undefined) return false;
          await tx.update(users).set({ passwordHash }).where(eq(users.id, used.userId));
          // Whoever knew the old password is out. The reset signs nobody in, so a second factor
          // still stands between the mailbox and the account.
          const sessionsRevoked = await revokeAllSessions(tx, used.userId, now.getTime());
          await auditChange(tx, {
            targets: [target('User', used.userId)],
            before: null,
            after: { passwordChangedAt: now.toISOString(), sessionsRevoked },
            tenantId: null,
          });
          return true;
        });
        if (!reset) throw invalid();
        return true;
      },

      generateRecoveryCodes: async (_: unknown, __: unknown, context: IdentityContext) => {
        const { userId } = requireUser(context.forwarded);
        requireRecentMfa(context.forwarded, clock.now(), settings.recentMfaMs);
        const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
        const createdAt = new Date(clock.now());
        await dataAccess.inScope({ userId }, async (tx) => {
          const replaced = await tx
            .delete(recoveryCodes)
            .where(eq(recoveryCodes.userId, userId))
            .returning({ usedAt: recoveryCodes.usedAt });
          await tx
            .insert(recoveryCodes)
            .values(codes.map((code) => ({ userId, codeHash: hashToken(normaliseCode(code)), createdAt })));
          // How many codes were usable, never the codes or their hashes.
          await auditChange(tx, {
            targets: [target('User', userId)],
            before: { recoveryCodesRemaining: replaced.filter((row) => row.usedAt === null).length },
            after: { recoveryCodesRemaining: codes.length },
          });
        });
        // Shown this once; only hashes are kept.
        return codes;
      },

      useRecoveryCode: async (_: unknown, { code }: { code: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireUser(context.forwarded);
        const limits = [
          { key: `totp:${userId}`, rule: settings.throttle.perTotpUser },
          { key: `ip:${context.forwarded.clientIp}`, rule: settings.throttle.perIp },
        ];
        await throttle.assertAllowed(limits);
        const now = new Date(clock.now());
        const token = await dataAccess.inScope({ userId }, async (tx) => {
          const [used] = await tx
            .update(recoveryCodes)
            .set({ usedAt: now })
            .where(
              and(
                eq(recoveryCodes.userId, userId),
                eq(recoveryCodes.codeHash, hashToken(normaliseCode(code))),
                isNull(recoveryCodes.usedAt),
              ),
            )
            .returning({ userId: recoveryCodes.userId });
          if (used === undefined) return null;
          const rotated = await rotateSession(tx, sessionId, { mfaAt: now });
          // The actor is the session as it came (before this step); the images say what it gained.
          await auditChange(tx, {
            targets: [target('User', userId), target('Session', sessionId)],
            before: { mfaAt: mfaAtIso(context.forwarded.mfaAt) },
            after: { mfaAt: now.toISOString(), method: 'RECOVERY_CODE' },
          });
          return rotated;
        });
        if (token === null) {
          await throttle.recordFailure(limits);
          throw badUserInput('code', 'The code is wrong or was already used');
        }
        await throttle.clear([`totp:${userId}`]);
        context.session.set(token, Math.floor(settings.sessionPolicy.absoluteMs / 1000));
        return true;
      },
    },
    Me: {
      recoveryCodesRemaining: async (me: { user: { id: string } }) => {
        const [row] = await dataAccess.inScope({ userId: me.user.id }, (tx) =>
          tx
            .select({ remaining: count() })
            .from(recoveryCodes)
            .where(and(eq(recoveryCodes.userId, me.user.id), isNull(recoveryCodes.usedAt))),
        );
        return row?.remaining ?? 0;
      },
    },
  };
}
