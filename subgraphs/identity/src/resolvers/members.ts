import { and, eq, isNull } from 'drizzle-orm';
import { authorize, clientError, ErrorCode, isUuid, holdsRoleAtLeast } from '@numezis/runtime';
import type { ForwardedContext, Role, Tx } from '@numezis/runtime';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { memberships, sessions } from '../tables.ts';

const notAMember = () => clientError(ErrorCode.NOT_FOUND, 'No such member');

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
          const updated = await tx
            .update(memberships)
            .set({ role: args.role, customRoleId: null })
            .where(eq(memberships.userId, args.userId))
            .returning({ userId: memberships.userId });
          if (updated.length === 0) throw notAMember();
        });
        return true;
      },
      removeMember: async (_: unknown, { userId }: { userId: string }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.removeMember');
        if (!isUuid(userId)) throw notAMember();
        await dataAccess.inTenant(tenantId, async (tx) => {
          await assertAdminsRemain(tx, userId, null);
          const removed = await tx
            .delete(memberships)
            .where(eq(memberships.userId, userId))
            .returning({ userId: memberships.userId });
          if (removed.length === 0) throw notAMember();
        });
        return true;
      },
      revokeMemberSessions: async (_: unknown, { userId }: { userId: string }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.revokeMemberSessions');
        if (!isUuid(userId)) throw notAMember();
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [member] = await tx.select().from(memberships).where(eq(memberships.userId, userId));
          if (member === undefined) throw notAMember();
          const revoked = await tx
            .update(sessions)
            .set({ revokedAt: new Date(clock.now()) })
            .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
            .returning({ id: sessions.id });
          return revoked.length;
        });
      },
    },
  };
}
