import type DataLoader from 'dataloader';
import { eq, inArray } from 'drizzle-orm';
import { groupBy, isUuid, tenantLoader } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { memberships, tenants, users } from './tables.ts';
import type { TenantRow, UserRow } from './tables.ts';

export interface Loaders {
  readonly tenants: DataLoader<string, TenantRow | null>;
  /** Only users who are members of the active workspace resolve; anyone else is null. */
  readonly users: DataLoader<string, UserRow | null>;
  readonly members: DataLoader<string, UserRow[] | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  const { tenantId } = context;
  return {
    tenants: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(tenants)
        .where(inArray(tenants.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
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
        .select({ tenantId: memberships.tenantId, user: users })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(inArray(memberships.tenantId, tenantIds.filter(isUuid)))
        .orderBy(users.displayName);
      const grouped = groupBy(rows, (row) => row.tenantId);
      return new Map(tenantIds.map((id) => [id, (grouped.get(id) ?? []).map((row) => row.user)]));
    }),
  };
}
