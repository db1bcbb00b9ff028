import { defineApolloSubgraph } from '@numezis/runtime';
import type { Clock, SubgraphDefinition } from '@numezis/runtime';
import { filesystemBlobStore } from './blob-store.ts';
import type { BlobStore } from './blob-store.ts';
import type { DocumentsSettings } from './config.ts';
import { createLoaders } from './loaders.ts';
import * as files from './paths.ts';
import { documentsResolvers } from './resolvers.ts';
import type { DocumentsContext } from './resolvers.ts';
import { registerTransferRoutes } from './transfer-routes.ts';

export const documentsSubgraph = { name: 'documents', defaultPort: 4003, defaultDataDir: files.defaultDataDir };

export function createDocumentsSubgraph(
  settings: DocumentsSettings,
  clock: Clock,
  store: BlobStore = filesystemBlobStore(settings.blobDir),
): SubgraphDefinition {
  return defineApolloSubgraph<DocumentsContext>({
    ...documentsSubgraph,
    files,
    resolvers: ({ dataAccess }) => documentsResolvers({ dataAccess, settings, clock, store }),
    context: ({ dataAccess }, forwarded, { request }) => ({
      forwarded,
      loaders: createLoaders(dataAccess, forwarded),
      log: request.log,
    }),
    routes: (app, { dataAccess, encryption }) =>
      registerTransferRoutes(app, { dataAccess, settings, clock, store, keyring: encryption.keyring }),
  });
}
