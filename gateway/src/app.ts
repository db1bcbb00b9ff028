import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import {
  createContextSigner,
  createHttpServer,
  maskingFormatError,
  registerHealthRoutes,
  requestIdPlugin,
  StartupError,
} from '@numezis/runtime';
import type { GatewayConfig } from './config.ts';
import { createHealthCheck } from './health.ts';
import { createGatewayContext, resolveForwardedContext } from './request-context.ts';
import type { GatewayContext } from './request-context.ts';
import { SignedDataSource } from './signed-data-source.ts';
import { createSubgraphFetcher } from './subgraph-fetcher.ts';
import { loadSupergraph } from './supergraph.ts';

export interface Gateway {
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The gateway: serves the supergraph at `/graphql` (no runtime introspection of subgraphs), signs a
 * context per subgraph per request, and answers `/livez` and `/health`. Returned unstarted so tests
 * can drive it in-process.
 */
export async function createGateway(config: GatewayConfig): Promise<Gateway> {
  if (config.signingKey === null) throw new StartupError('CONTEXT_SIGNING_KEY is required');
  const supergraph = await loadSupergraph(config.supergraphPath, config.subgraphUrls);
  const signer = createContextSigner({ key: config.signingKey, clock: config.clock });
  const fetcher = createSubgraphFetcher({ timeoutMs: config.subgraphTimeoutMs });

  const app = createHttpServer({
    service: 'gateway',
    logLevel: config.logLevel,
    requestTimeoutMs: config.requestTimeoutMs,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy.length === 0 ? false : [...config.trustProxy],
  });

  const urls = new Map(supergraph.subgraphs.map((subgraph) => [subgraph.name, subgraph.url]));
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    logger: app.log,
    buildService: ({ name, url }) =>
      new SignedDataSource({ name, url: urls.get(name) ?? url ?? '', fetcher: fetcher.fetch, log: app.log }),
  });

  const production = config.environment === 'production';
  const server = new ApolloServer<GatewayContext>({
    gateway,
    logger: app.log,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    formatError: maskingFormatError(app.log),
    plugins: [
      fastifyApolloDrainPlugin(app),
      requestIdPlugin<GatewayContext>((context) => context.forwarded.requestId),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await server.start();

  const health = createHealthCheck({ subgraphs: supergraph.subgraphs, fetcher: fetcher.fetch, signer });
  registerHealthRoutes(app, async () => {
    const subgraphs = await health();
    // Which subgraph is down is for operators; production keeps the topology to itself.
    if (production)
      return { subgraphs: Object.values(subgraphs).every((status) => status === 'ok') ? 'ok' : 'unavailable' };
    return subgraphs;
  });

  await app.register(fastifyApollo(server), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) => createGatewayContext(signer, resolveForwardedContext(request, config.authMode)),
  });
  await app.ready();

  return {
    app,
    async close() {
      await app.close();
      await fetcher.close();
    },
  };
}
