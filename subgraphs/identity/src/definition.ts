import { defineApolloSubgraph } from '@numezis/runtime';
import { createLoaders } from './loaders.ts';
import * as files from './paths.ts';
import { identityResolvers } from './resolvers.ts';
import type { IdentityContext } from './resolvers.ts';

export const identitySubgraph = defineApolloSubgraph<IdentityContext>({
  name: 'identity',
  defaultPort: 4001,
  files,
  resolvers: ({ config, dataAccess }) => identityResolvers(dataAccess, config.environment),
  context: ({ dataAccess }, forwarded) => ({ forwarded, loaders: createLoaders(dataAccess, forwarded) }),
});
