import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import {
  auditChange,
  authorize,
  badUserInput,
  clientError,
  ErrorCode,
  maskedEmail,
  requiredText,
  requireUser,
  roleOf,
} from '@numezis/runtime';
import type { ForwardedContext, Role } from '@numezis/runtime';
import { isoOrNull, target } from '../audit.ts';
import { hashToken, isWellFormedToken, newSecretToken, normaliseEmail } from '../auth/tokens.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { invitations, memberships, sessions, tenants, users } from '../tables.ts';
import type { TenantRow } from '../tables.ts';

interface CreateWorkspaceArgs {
  input: { name: string; fiscalYearStartMonth: number };
}
interface InviteMemberArgs {
  input: { email: string; role: Role };
}

/** Signed in, and not held at the MFA step: what acting on one's own behalf needs. */
function requireFullSession(context: ForwardedContext): { userId: string; sessionId: string } {
  const user = requireUser(context);
  if (context.mfaRequired) {
    throw clientError(ErrorCode.FORBIDDEN, 'Complete multi-factor authentication first', { reason: 'MFA_REQUIRED' });
  }
  return user;
}

export function workspaceResolvers({ dataAccess, settings, mailer, clock }: IdentityDependencies) {
  return {
    Query: {
      workspace: (_: unknown, __: unknown, context: IdentityContext) =>
        context.loaders.tenants.load(authorize(context.forwarded, 'Query.workspace')),
    },
    Mutation: {
      createWorkspace: async (_: unknown, { input }: CreateWorkspaceArgs, context: IdentityContext) => {
        const { userId, sessionId } = requireFullSession(context.forwarded);
        const name = requiredText(input.name, 'name');
        if (
          !Number.isInteger(input.fiscalYearStartMonth) ||
          input.fiscalYearStartMonth < 1 ||
          input.fiscalYearStartMonth > 12
        ) {
          throw badUserInput('fiscalYearStartMonth', 'fiscalYearStartMonth must be a month from 1 to 12');
        }
        const tenantId = randomUUID();
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [workspace] = await tx
            .insert(tenants)
            .values({
              id: tenantId,
              name,
              plan: 'FREE',
              fiscalYearStartMonth: input.fiscalYearStartMonth,
              subscriptionStatus: 'ACTIVE',
              mfaRequired: false,
            })
            .returning();
          if (workspace === undefined) throw new Error('workspace insert returned no row');
          await tx.insert(memberships).values({ tenantId, userId, role: 'ADMIN' });
          await tx.update(sessions).set({ activeWorkspaceId: tenantId }).where(eq(sessions.id, sessionId));
          // The request acts in no workspace yet: the new one's trail opens with its creation. The
          // audit subgraph reads the terms below to know how long to keep the workspace's events.
          await auditChange(tx, {
            targets: [target('Tenant', tenantId), target('Member', userId)],
            before: null,
            after: {
              name: workspace.name,
              plan: workspace.plan,
              fiscalYearStartMonth: workspace.fiscalYearStartMonth,
              subscriptionStatus: workspace.subscriptionStatus,
              subscriptionEndsAt: isoOrNull(workspace.subscriptionEndsAt),
              mfaRequired: workspace.mfaRequired,
              adminUserId: userId,
            },
            tenantId,
          });
          return workspace;
        });
      },

      inviteMember: async (_: unknown, { input }: InviteMemberArgs, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.inviteMember');
        const { userId } = requireUser(context.forwarded);
        const email = normaliseEmail(input.email);
        if (email === null) throw badUserInput('email', 'email must be an email address');
        // Nobody grants what they do not hold: only an Admin can make another Admin.
        if (input.role === 'ADMIN' && roleOf(context.forwarded.access) !== 'ADMIN') {
          throw clientError(ErrorCode.FORBIDDEN, 'Only an Admin can invite an Admin');
        }
        const token = newSecretToken();
        const now = clock.now();
        const invitation = await dataAccess.inTenant(tenantId, async (tx) => {
          const [row] = await tx
            .insert(invitations)
            .values({
              tenantId,
              id: randomUUID(),
              email,
              role: input.role,
              tokenHash: hashToken(token),
              invitedBy: userId,
              createdAt: new Date(now),
              expiresAt: new Date(now + settings.invitationTtlMs),
            })
            .returning();
          if (row === undefined) throw new Error('invitation insert returned no row');
          await auditChange(tx, {
            targets: [target('Invitation', row.id)],
            before: null,
            after: { email: maskedEmail(email), role: row.role, expiresAt: row.expiresAt.toISOString() },
          });
          const [workspace] = await tx.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
          return { row, workspaceName: workspace?.name ?? '' };
        });
        await mailer.send({
          to: email,
          subject: `You are invited to ${invitation.workspaceName} on Numezis`,
          text: `Accept the invitation with this code after signing in: ${token}`,
        });
        return invitation.row;
      },

      acceptInvitation: async (_: unknown, { token }: { token: string }, context: IdentityContext) => {
        const { userId, sessionId } = requireFullSession(context.forwarded);
        const invalid = () => clientError(ErrorCode.NOT_FOUND, 'This invitation is invalid or expired');
        if (!isWellFormedToken(token)) throw invalid();
        const now = new Date(clock.now());
        const tokenHash = hashToken(token);
        const found = await dataAccess.inScope({ userId, tokenHash: tokenHash.toString('hex') }, async (tx) => {
          const [invitation] = await tx
            .select()
            .from(invitations)
            .where(
              and(eq(invitations.tokenHash, tokenHash), isNull(invitations.acceptedAt), gt(invitations.expiresAt, now)),
            );
          const [user] = await tx.select({ email: users.email }).from(users).where(eq(users.id, userId));
          // An invitation is for the address it was sent to, not for whoever holds the code.
          return invitation !== undefined && invitation.email === user?.email ? invitation : undefined;
        });
        if (found === undefined) throw invalid();
        return dataAccess.inTenant(found.tenantId, async (tx) => {
          const joined = await tx
            .insert(memberships)
            .values({ tenantId: found.tenantId, userId, role: found.role })
            .onConflictDoNothing()
            .returning({ role: memberships.role });
          await tx.update(invitations).set({ acceptedAt: now }).where(eq(invitations.id, found.id));
          await tx.update(sessions).set({ activeWorkspaceId: found.tenantId }).where(eq(sessions.id, sessionId));
          // The joined workspace's trail, not the one the request happened to act in. Someone already
          // a member keeps their role: the invitation is spent, the membership unchanged.
          await auditChange(tx, {
            targets: [target('Invitation', found.id), target('Member', userId)],
            before: { acceptedAt: null },
            after: { acceptedAt: now.toISOString(), role: found.role, joined: joined.length > 0 },
            tenantId: found.tenantId,
          });
          const [workspace] = await tx.select().from(tenants).where(eq(tenants.id, found.tenantId));
          return workspace;
        });
      },

      setMfaRequired: async (_: unknown, { required }: { required: boolean }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.setMfaRequired');
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [previous] = await tx
            .select({ mfaRequired: tenants.mfaRequired })
            .from(tenants)
            .where(eq(tenants.id, tenantId));
          const [workspace] = await tx
            .update(tenants)
            .set({ mfaRequired: required })
            .where(eq(tenants.id, tenantId))
            .returning();
          if (workspace !== undefined) {
            await auditChange(tx, {
              targets: [target('Tenant', tenantId)],
              before: { mfaRequired: previous?.mfaRequired ?? null },
              after: { mfaRequired: workspace.mfaRequired },
            });
          }
          return workspace;
        });
      },
    },
    Tenant: {
      __resolveReference: (reference: { id: string }, context: IdentityContext) =>
        context.loaders.tenants.load(reference.id),
      createdAt: (tenant: TenantRow) => tenant.createdAt.toISOString(),
      subscriptionEndsAt: (tenant: TenantRow) => tenant.subscriptionEndsAt?.toISOString() ?? null,
      members: async (tenant: TenantRow, _: unknown, context: IdentityContext) =>
        (await context.loaders.members.load(tenant.id)) ?? [],
    },
    User: {
      __resolveReference: (reference: { id: string }, context: IdentityContext) =>
        context.loaders.users.load(reference.id),
    },
    Invitation: {
      expiresAt: (invitation: { expiresAt: Date }) => invitation.expiresAt.toISOString(),
    },
  };
}
