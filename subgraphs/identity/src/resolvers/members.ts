import { and, eq, isNull } from 'drizzle-orm';
import { auditChange, authorize, clientError, ErrorCode, isUuid, holdsRoleAtLeast } from '@numezis/runtime';
import type { ForwardedContext, Role, Tx } from '@numezis/runtime';
import { target } from '../audit.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { memberships, sessions } from '../tables.ts';

const notAMember = () => clientError(ErrorCode.NOT_FOUND, 'No such member');

/** A member's role as their audit images show it; a custom role is named by its id. */
async function memberRole(tx: Tx, userId: string): Promise<{ role: Role; customRoleId: string | null } | undefined> {
  const [member] = await tx
    .select({ role: memberships.role, customRoleId: memberships.customRoleId })
    .from(memberships)
    .where(eq(memberships.userId, userId));
  return member;
}

// A target list is capped (50) when the audit subgraph takes the event in; the count says the rest.
const maxSessionTargets = 48;

/** Nobody grants what they do not hold, and a workspace never loses its last Admin. */
async function assertAdminsRemain(tx: Tx, userId: string, nextRole: Role | null): Promise<void> {
  // Only a plain Admin counts: a custom role ranked as Admin may lack what managing the workspace needs.
  const admins = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.role, 'ADMIN'), isNull(memberships.customRoleId)));
  const remaining = admins.filter((admin) => admin.userId !== userId).length + (nextRole === 'ADMIN' ? 1 : 0);
  if (remaining === 0) {
    throw clientError(ErrorCode.BAD_USER_INPUT, 'A workspace needs at least one Admin', { field: 'userId' });
  }
}

function assertMayGrant(context: ForwardedContext, role: Role): void {
  if (!holdsRoleAtLeast(context.access, role)) {
    throw clientError(ErrorCode.FORBIDDEN, 'You cannot grant a role higher than yours');
  }
}

export function memberResolvers({ dataAccess, clock }: IdentityDependencies) {
  return {
    Mutation: {
      setMemberRole: async (_: unknown, args: { userId: string; role: Role }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.setMemberRole');
        assertMayGrant(context.forwarded, args.role);
        if (!isUuid(args.userId)) throw notAMember();
        await dataAccess.inTenant(tenantId, async (tx) => {
          await assertAdminsRemain(tx, args.userId, args.role);
          const before = await memberRole(tx, args.userId);
          const updated = await tx
            .update(memberships)
            .set({ role: args.role, customRoleId: null })
            .where(eq(memberships.userId, args.userId))
            .returning({ userId: memberships.userId });
          if (updated.length === 0 || before === undefined) throw notAMember();
          await auditChange(tx, {
            targets: [target('Member', args.userId)],
            before,
            after: { role: args.role, customRoleId: null },
          });
        });
        return true;
      },
      removeMember: async (_: unknown, { userId }: { userId: string }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.removeMember');
        if (!isUuid(userId)) throw notAMember();
        await dataAccess.inTenant(tenantId, async (tx) => {
          await assertAdminsRemain(tx, userId, null);
          const [removed] = await tx
            .delete(memberships)
            .where(eq(memberships.userId, userId))
            .returning({ role: memberships.role, customRoleId: memberships.customRoleId });
          if (removed === undefined) throw notAMember();
          await auditChange(tx, { targets: [target('Member', userId)], before: removed, after: null });
        });
        return true;
      },
      revokeMemberSessions: async (_: unknown, { userId }: { userId: string }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.revokeMemberSessions');
        if (!isUuid(userId)) throw notAMember();
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [member] = await tx.select().from(memberships).where(eq(memberships.userId, userId));
          if (member === undefined) throw notAMember();
          const revokedAt = new Date(clock.now());
          const revoked = await tx
            .update(sessions)
            .set({ revokedAt })
            .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
            .returning({ id: sessions.id });
          await auditChange(tx, {
            targets: [
              target('Member', userId),
              ...revoked.slice(0, maxSessionTargets).map((session) => target('Session', session.id)),
            ],
            before: null,
            after: { revokedAt: revokedAt.toISOString(), sessionsRevoked: revoked.length },
          });
          return revoked.length;
        });
      },
    },
  };
}
