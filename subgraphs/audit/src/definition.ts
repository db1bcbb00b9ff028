import { readFile } from 'node:fs/promises';
import { mercuriusFederationPlugin } from '@mercuriusjs/federation';
import type { FastifyPluginAsync } from 'fastify';
import type { MercuriusOptions } from 'mercurius';
import { forwardedContextOf } from '@numezis/runtime';
import type { SubgraphDefinition } from '@numezis/runtime';
import { createLoaders } from './loaders.ts';
import { maskingErrorFormatter } from './masking-error-formatter.ts';
import { defaultDataDir, migrationsDir, schemaFile } from './paths.ts';
import { auditResolvers } from './resolvers.ts';
import type { AuditContext } from './resolvers.ts';

type FederationOptions = Omit<MercuriusOptions, 'schema'> & { schema: string };
// @mercuriusjs/federation declares its plugin without Fastify's plugin signature.
const federationPlugin = mercuriusFederationPlugin as unknown as FastifyPluginAsync<FederationOptions>;

export const auditSubgraph: SubgraphDefinition = {
  name: 'audit',
  defaultPort: 4004,
  migrationsDir,
  defaultDataDir,
  async mountGraphQL(app, { dataAccess }) {
    await app.register(federationPlugin, {
      schema: await readFile(schemaFile, 'utf8'),
      resolvers: auditResolvers(dataAccess) as unknown as NonNullable<MercuriusOptions['resolvers']>,
      path: '/graphql',
      graphiql: false,
      context: (request): AuditContext => {
        const forwarded = forwardedContextOf(request);
        return { forwarded, loaders: createLoaders(dataAccess, forwarded) };
      },
      errorFormatter: maskingErrorFormatter(app.log) as NonNullable<MercuriusOptions['errorFormatter']>,
    });
  },
};
