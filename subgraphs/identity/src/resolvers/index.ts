import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { accountResolvers } from './account.ts';
import { apiKeyResolvers } from './api-keys.ts';
import { customRoleResolvers } from './custom-roles.ts';
import { fiduciaryResolvers } from './fiduciary.ts';
import { memberResolvers } from './members.ts';
import { recoveryResolvers } from './recovery.ts';
import { mfaResolvers } from './mfa.ts';
import { passkeyResolvers } from './passkeys.ts';
import { workspaceResolvers } from './workspaces.ts';

export function identityResolvers(dependencies: IdentityDependencies): GraphQLResolverMap<IdentityContext> {
  const account = accountResolvers(dependencies);
  const workspaces = workspaceResolvers(dependencies);
  const mfa = mfaResolvers(dependencies);
  const keys = apiKeyResolvers(dependencies);
  const members = memberResolvers(dependencies);
  const recovery = recoveryResolvers(dependencies);
  const roles = customRoleResolvers(dependencies);
  const fiduciary = fiduciaryResolvers(dependencies);
  const passkeys = passkeyResolvers(dependencies);
  const resolvers: GraphQLResolverMap<IdentityContext> = {
    Query: { ...account.Query, ...workspaces.Query, ...keys.Query },
    Mutation: {
      ...account.Mutation,
      ...workspaces.Mutation,
      ...mfa.Mutation,
      ...keys.Mutation,
      ...members.Mutation,
      ...recovery.Mutation,
      ...passkeys.Mutation,
      ...roles.Mutation,
      ...fiduciary.Mutation,
    },
    ApiKey: keys.ApiKey,
    Me: { ...recovery.Me, ...passkeys.Me },
    Passkey: passkeys.Passkey,
    Session: account.Session,
    Tenant: { ...workspaces.Tenant, ...roles.Tenant, ...fiduciary.Tenant },
    FiduciaryLink: fiduciary.FiduciaryLink,
    CustomRole: roles.CustomRole,
    User: workspaces.User,
    Invitation: workspaces.Invitation,
  };
  return resolvers;
}
