import { and, asc, eq } from 'drizzle-orm';
import {
  auditChange,
  authorize,
  clientError,
  ErrorCode,
  isUuid,
  requireUser,
  holdsRoleAtLeast,
} from '@numezis/runtime';
import type { Role } from '@numezis/runtime';
import { target } from '../audit.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { fiduciaryLinks } from '../tables.ts';

interface LinkArgs {
  fiduciaryWorkspaceId: string;
  role: Role;
}

/** Drizzle wraps driver errors; the SQLSTATE is on the cause. */
const sqlState = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code;

/**
 * A link is recorded in the client workspace's trail (the request's own, the default): it is that
 * workspace's data the firm's members may now read. The firm is a target, so its events can be found.
 */
const linkTargets = (fiduciaryWorkspaceId: string) => [
  target('FiduciaryLink', fiduciaryWorkspaceId),
  target('Tenant', fiduciaryWorkspaceId),
];

export function fiduciaryResolvers({ dataAccess, clock }: IdentityDependencies) {
  return {
    Mutation: {
      linkFiduciary: async (_: unknown, args: LinkArgs, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.linkFiduciary');
        const { userId } = requireUser(context.forwarded);
        const notFound = () => clientError(ErrorCode.NOT_FOUND, 'No such fiduciary workspace');
        if (!isUuid(args.fiduciaryWorkspaceId) || args.fiduciaryWorkspaceId === tenantId) throw notFound();
        if (!holdsRoleAtLeast(context.forwarded.access, args.role)) {
          throw clientError(ErrorCode.FORBIDDEN, 'You cannot grant a role higher than yours');
        }
        try {
          await dataAccess.inTenant(tenantId, async (tx) => {
            const [existing] = await tx
              .select({ role: fiduciaryLinks.role })
              .from(fiduciaryLinks)
              .where(
                and(
                  eq(fiduciaryLinks.tenantId, tenantId),
                  eq(fiduciaryLinks.fiduciaryTenantId, args.fiduciaryWorkspaceId),
                ),
              );
            await tx
              .insert(fiduciaryLinks)
              .values({
                tenantId,
                fiduciaryTenantId: args.fiduciaryWorkspaceId,
                role: args.role,
                createdBy: userId,
                createdAt: new Date(clock.now()),
              })
              .onConflictDoUpdate({
                target: [fiduciaryLinks.tenantId, fiduciaryLinks.fiduciaryTenantId],
                set: { role: args.role },
              });
            await auditChange(tx, {
              targets: linkTargets(args.fiduciaryWorkspaceId),
              before: existing ?? null,
              after: { role: args.role },
            });
          });
        } catch (error) {
          // The firm's workspace is not ours to see: the foreign key is what tells us it exists.
          if (sqlState(error) === '23503') throw notFound();
          throw error;
        }
        return true;
      },
      unlinkFiduciary: async (
        _: unknown,
        { fiduciaryWorkspaceId }: { fiduciaryWorkspaceId: string },
        context: IdentityContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Mutation.unlinkFiduciary');
        const removed = isUuid(fiduciaryWorkspaceId)
          ? await dataAccess.inTenant(tenantId, async (tx) => {
              const rows = await tx
                .delete(fiduciaryLinks)
                .where(
                  and(
                    eq(fiduciaryLinks.tenantId, tenantId),
                    eq(fiduciaryLinks.fiduciaryTenantId, fiduciaryWorkspaceId),
                  ),
                )
                .returning({ id: fiduciaryLinks.fiduciaryTenantId, role: fiduciaryLinks.role });
              const [link] = rows;
              if (link !== undefined) {
                await auditChange(tx, {
                  targets: linkTargets(fiduciaryWorkspaceId),
                  before: { role: link.role },
                  after: null,
                });
              }
              return rows;
            })
          : [];
        if (removed.length === 0) throw clientError(ErrorCode.NOT_FOUND, 'No such fiduciary link');
        return true;
      },
    },
    Tenant: {
      fiduciaryLinks: (tenant: { id: string }, _: unknown, context: IdentityContext) => {
        if (authorize(context.forwarded, 'Query.workspace') !== tenant.id) return [];
        return dataAccess.inTenant(tenant.id, (tx) =>
          tx
            .select()
            .from(fiduciaryLinks)
            .where(eq(fiduciaryLinks.tenantId, tenant.id))
            .orderBy(asc(fiduciaryLinks.createdAt)),
        );
      },
    },
    FiduciaryLink: {
      fiduciaryWorkspaceId: (link: { fiduciaryTenantId: string }) => link.fiduciaryTenantId,
      createdAt: (link: { createdAt: Date }) => link.createdAt.toISOString(),
    },
  };
}
