import { defineApolloSubgraph } from '@numezis/runtime';
import { createLoaders } from './loaders.ts';
import * as files from './paths.ts';
import { accountingResolvers } from './resolvers.ts';
import type { AccountingContext } from './resolvers.ts';

export const accountingSubgraph = defineApolloSubgraph<AccountingContext>({
  name: 'accounting',
  defaultPort: 4002,
  files,
  resolvers: ({ dataAccess, encryption }) => accountingResolvers(dataAccess, encryption.fields),
  context: ({ dataAccess, encryption }, forwarded) => ({
    forwarded,
    loaders: createLoaders(dataAccess, encryption.fields, forwarded),
  }),
});
