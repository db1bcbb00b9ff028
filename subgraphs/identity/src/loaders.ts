import type DataLoader from 'dataloader';
import { eq, inArray } from 'drizzle-orm';
import { groupBy, isUuid, portfolioClientLoader, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext, Role } from '@numezis/runtime';
import { customRoles, memberships, tenants, users } from './tables.ts';
import type { CustomRoleRow, TenantRow, UserRow } from './tables.ts';

export interface MemberRow {
  readonly user: UserRow;
  /** The built-in role, or the base role a custom role ranks as. */
  readonly role: Role;
  readonly customRole: CustomRoleRow | null;
}

export interface Loaders {
  readonly tenants: DataLoader<string, TenantRow | null>;
  /** Only people who are members of the active workspace resolve; anyone else is null. */
  readonly users: DataLoader<string, UserRow | null>;
  readonly members: DataLoader<string, MemberRow[] | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read the workspace.
  const tenantId = tenantWith(context.access, 'workspace.read');
  return {
    // A portfolio acts in no one workspace: each client workspace resolves in its own scope instead.
    tenants:
      context.access.kind === 'portfolio'
        ? portfolioClientLoader(dataAccess, context.access, 'workspace.read', async (tx, client) => {
            const [row] = await tx.select().from(tenants).where(eq(tenants.id, client.tenantId));
            return row;
          })
        : tenantLoader(dataAccess, tenantId, async (tx, ids) => {
            const rows = await tx
              .select()
              .from(tenants)
              .where(inArray(tenants.id, ids.filter(isUuid)));
            return new Map(rows.filter((row) => row.id === tenantId).map((row) => [row.id, row]));
          }),
    users: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select({ user: users })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(inArray(memberships.userId, ids.filter(isUuid)));
      return new Map(rows.map(({ user }) => [user.id, user]));
    }),
    members: tenantLoader(dataAccess, tenantId, async (tx, tenantIds) => {
      const rows = await tx
        .select({ tenantId: memberships.tenantId, role: memberships.role, user: users, customRole: customRoles })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .leftJoin(customRoles, eq(customRoles.id, memberships.customRoleId))
        .where(inArray(memberships.tenantId, tenantIds.filter(isUuid)))
        .orderBy(users.displayName);
      const grouped = groupBy(rows, (row) => row.tenantId);
      return new Map(
        tenantIds.map((id) => [
          id,
          (grouped.get(id) ?? []).map((row) => ({ user: row.user, role: row.role, customRole: row.customRole })),
        ]),
      );
    }),
  };
}
