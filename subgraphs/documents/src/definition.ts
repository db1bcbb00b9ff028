import { defineApolloSubgraph } from '@numezis/runtime';
import { createLoaders } from './loaders.ts';
import * as files from './paths.ts';
import { documentsResolvers } from './resolvers.ts';
import type { DocumentsContext } from './resolvers.ts';

export const documentsSubgraph = defineApolloSubgraph<DocumentsContext>({
  name: 'documents',
  defaultPort: 4003,
  files,
  resolvers: ({ dataAccess }) => documentsResolvers(dataAccess),
  context: ({ dataAccess }, forwarded) => ({ forwarded, loaders: createLoaders(dataAccess, forwarded) }),
});
