import { readFile } from 'node:fs/promises';
import { mercuriusFederationPlugin } from '@mercuriusjs/federation';
import type { FastifyPluginAsync } from 'fastify';
import type { MercuriusOptions } from 'mercurius';
import { withAccessDirectives } from '@numezis/schema';
import { accessDirectivesTransformer, createAccessDenials, forwardedContextOf } from '@numezis/runtime';
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
      schema: withAccessDirectives(await readFile(schemaFile, 'utf8')),
      // Through @mercuriusjs/federation, which keeps entity `resolveReference` across the transform.
      schemaTransforms: [accessDirectivesTransformer(createAccessDenials(app.log, 'audit'))],
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
