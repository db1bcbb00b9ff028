import { randomUUID } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import {
  auditChange,
  authorize,
  badUserInput,
  clientError,
  effectivePermissions,
  ErrorCode,
  isUuid,
  permissionFromEnum,
  permissionToEnum,
  requiredText,
  holdsRoleAtLeast,
  permissionsOf,
} from '@numezis/runtime';
import type { ForwardedContext, Permission, Role } from '@numezis/runtime';
import { target } from '../audit.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { customRolePermissions } from '../custom-role-permissions.ts';
import { customRoles, memberships } from '../tables.ts';
import type { CustomRoleRow } from '../tables.ts';

interface CreateCustomRoleArgs {
  input: { name: string; baseRole: Role; addPermissions: string[]; removePermissions: string[] };
}

function parsePermissions(values: readonly string[], field: string): Permission[] {
  return values.map((value) => {
    const permission = permissionFromEnum(value);
    if (permission === null) throw badUserInput(field, `unknown permission ${value}`);
    return permission;
  });
}

/** Nobody grants a permission they do not hold, nor a rank above their own. */
export function assertMayGrant(context: ForwardedContext, rank: Role, granted: readonly Permission[]): void {
  if (!holdsRoleAtLeast(context.access, rank)) {
    throw clientError(ErrorCode.FORBIDDEN, 'You cannot grant a role higher than yours');
  }
  const missing = granted.filter((permission) => !permissionsOf(context.access).includes(permission));
  if (missing.length > 0) {
    throw clientError(ErrorCode.FORBIDDEN, 'You cannot grant a permission you do not hold', {
      permissions: missing.map(permissionToEnum),
    });
  }
}

export function customRoleResolvers({ dataAccess, clock }: IdentityDependencies) {
  return {
    Mutation: {
      createCustomRole: async (_: unknown, { input }: CreateCustomRoleArgs, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createCustomRole');
        const name = requiredText(input.name, 'name', 100);
        const added = parsePermissions(input.addPermissions, 'addPermissions');
        const removed = parsePermissions(input.removePermissions, 'removePermissions');
        assertMayGrant(context.forwarded, input.baseRole, effectivePermissions(input.baseRole, added, removed));
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [existing] = await tx
            .select({ id: customRoles.id })
            .from(customRoles)
            .where(eq(customRoles.name, name));
          if (existing !== undefined) throw badUserInput('name', `a role named ${name} already exists`);
          const [row] = await tx
            .insert(customRoles)
            .values({
              tenantId,
              id: randomUUID(),
              name,
              baseRole: input.baseRole,
              addedPermissions: added,
              removedPermissions: removed,
              createdAt: new Date(clock.now()),
            })
            .returning();
          if (row === undefined) throw new Error('custom role insert returned no row');
          await auditChange(tx, {
            targets: [target('CustomRole', row.id)],
            before: null,
            after: {
              name: row.name,
              baseRole: row.baseRole,
              addedPermissions: row.addedPermissions,
              removedPermissions: row.removedPermissions,
            },
          });
          return row;
        });
      },
      assignCustomRole: async (
        _: unknown,
        args: { userId: string; customRoleId: string },
        context: IdentityContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Mutation.assignCustomRole');
        const notFound = () => clientError(ErrorCode.NOT_FOUND, 'No such member or role');
        if (!isUuid(args.userId) || !isUuid(args.customRoleId)) throw notFound();
        await dataAccess.inTenant(tenantId, async (tx) => {
          const [role] = await tx.select().from(customRoles).where(eq(customRoles.id, args.customRoleId));
          if (role === undefined) throw notFound();
          assertMayGrant(context.forwarded, role.baseRole, customRolePermissions(role));
          const admins = await tx
            .select({ userId: memberships.userId })
            .from(memberships)
            .where(and(eq(memberships.role, 'ADMIN'), isNull(memberships.customRoleId)));
          if (admins.every((admin) => admin.userId === args.userId)) {
            throw badUserInput('userId', 'A workspace needs at least one Admin');
          }
          const [before] = await tx
            .select({ role: memberships.role, customRoleId: memberships.customRoleId })
            .from(memberships)
            .where(eq(memberships.userId, args.userId));
          const updated = await tx
            .update(memberships)
            .set({ role: role.baseRole, customRoleId: role.id })
            .where(eq(memberships.userId, args.userId))
            .returning({ userId: memberships.userId });
          if (updated.length === 0 || before === undefined) throw notFound();
          await auditChange(tx, {
            targets: [target('Member', args.userId), target('CustomRole', role.id)],
            before,
            after: { role: role.baseRole, customRoleId: role.id, customRoleName: role.name },
          });
        });
        return true;
      },
    },
    Tenant: {
      customRoles: (tenant: { id: string }, _: unknown, context: IdentityContext) => {
        if (authorize(context.forwarded, 'Query.workspace') !== tenant.id) return [];
        return dataAccess.inTenant(tenant.id, (tx) => tx.select().from(customRoles).orderBy(asc(customRoles.name)));
      },
    },
    CustomRole: {
      permissions: (role: CustomRoleRow) => customRolePermissions(role).map(permissionToEnum),
    },
  };
}
