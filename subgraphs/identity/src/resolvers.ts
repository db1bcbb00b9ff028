import { randomUUID } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { clientError, ErrorCode, requiredText, requireTenant } from '@numezis/runtime';
import type { DataAccess, SubgraphContext, RuntimeEnvironment } from '@numezis/runtime';
import type { Loaders } from './loaders.ts';
import { memberships, tenants, users } from './tables.ts';
import type { TenantRow, UserRow } from './tables.ts';

export interface IdentityContext extends SubgraphContext {
  readonly loaders: Loaders;
}

interface CreateWorkspaceArgs {
  input: { name: string; ownerDisplayName: string };
}

export function identityResolvers(
  dataAccess: DataAccess,
  environment: RuntimeEnvironment,
): GraphQLResolverMap<IdentityContext> {
  return {
    Query: {
      workspace: (_: unknown, __: unknown, context: IdentityContext) =>
        context.loaders.tenants.load(requireTenant(context.forwarded)),
    },
    Mutation: {
      createWorkspace: async (_: unknown, { input }: CreateWorkspaceArgs) => {
        // Sign-up with verified identities replaces this; until then nobody may create workspaces
        // anonymously in production.
        if (environment === 'production') {
          throw clientError(ErrorCode.FORBIDDEN, 'Workspaces are created through sign-up');
        }
        const name = requiredText(input.name, 'name');
        const displayName = requiredText(input.ownerDisplayName, 'ownerDisplayName');
        const tenantId = randomUUID();
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [workspace] = await tx.insert(tenants).values({ id: tenantId, name, plan: 'FREE' }).returning();
          const [owner] = await tx.insert(users).values({ id: randomUUID(), displayName }).returning();
          if (workspace === undefined || owner === undefined) throw new Error('insert returned no row');
          await tx.insert(memberships).values({ tenantId, userId: owner.id, role: 'ADMIN' });
          return { workspace, owner };
        });
      },
    },
    Tenant: {
      __resolveReference: (reference: { id: string }, context: IdentityContext) =>
        context.loaders.tenants.load(reference.id),
      createdAt: (tenant: TenantRow) => tenant.createdAt.toISOString(),
      members: (tenant: TenantRow, _: unknown, context: IdentityContext) => context.loaders.members.load(tenant.id),
    },
    User: {
      __resolveReference: (reference: { id: string }, context: IdentityContext) =>
        context.loaders.users.load(reference.id),
      displayName: (user: UserRow) => user.displayName,
    },
  };
}
