import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import fastifyCors from '@fastify/cors';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import type { SigningKey } from '@numezis/runtime/context/signed-context';
import type { SharedState } from '@numezis/runtime/shared-state/shared-state';
import { httpAuditSender } from '@numezis/runtime/audit/audit-sender';
import { createContextSigner } from '@numezis/runtime/context/signed-context';
import { configureErrorReporting } from '@numezis/runtime/observability/error-reporting';
import { createServiceMetrics, graphqlMetricsPlugin, registerMetrics } from '@numezis/runtime/observability/metrics';
import { createAccessDenials } from '@numezis/runtime/security/access-denials';
import { maskingFormatError, requestIdPlugin } from '@numezis/runtime/server/graphql-errors';
import { createHttpServer, registerHealthRoutes } from '@numezis/runtime/server/http';
import { StartupError } from '@numezis/runtime/server/run';
import { memoryState, openRedisState } from '@numezis/runtime/shared-state/shared-state';
import type { GraphQLSchema } from 'graphql';
import { createEdgeAudit } from './audit/edge-audit.ts';
import type { EdgeAudit } from './audit/edge-audit.ts';
import { edgeAuditPlugin, recordingRefusals } from './audit/edge-audit-plugin.ts';
import type { GatewayConfig } from './config.ts';
import { registerSubscriptionServer } from './subscriptions/subscription-server.ts';
import { registerDocumentTransfers } from './document-transfers.ts';
import {
  limitFormatError,
  operationLimitsRule,
  registerBodyLimit,
  registerDocumentSizeLimit,
} from './edge/operation-limits.ts';
import {
  enforceTrustedDocuments,
  loadTrustedDocuments,
  persistedQueryCache,
  registerTrustedDocuments,
} from './edge/persisted-queries.ts';
import { createRateLimiter, registerIpRateLimit } from './edge/rate-limits.ts';
import { registerSecurityTxt } from './edge/security-txt.ts';
import {
  createHttpsRedirectServer,
  readTlsFiles,
  registerProxiedHttpsRedirect,
  registerSecurityHeaders,
} from './edge/transport.ts';
import { withEarlyRefusal } from './early-refusal.ts';
import { loadFieldPolicyFile } from './field-policy-file.ts';
import { createHealthCheck } from './health.ts';
import { createGatewayContext, portfolioHeader, workspaceHeader } from './request-context.ts';
import type { GatewayContext } from './request-context.ts';
import { sessionCookiePlugin } from './session-cookie-plugin.ts';
import { createApiKeyResolver, createSessionResolver } from './session-resolver.ts';
import { SignedDataSource } from './signed-data-source.ts';
import { createSubgraphFetcher, timedFetch } from './subgraph-fetcher.ts';
import { loadSupergraph } from './supergraph.ts';

interface Resources {
  redis: SharedState | null;
  edgeAudit: EdgeAudit | null;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** With TLS and GATEWAY_HTTP_REDIRECT_PORT: the plain HTTP listener that redirects to HTTPS. */
  readonly httpsRedirect: FastifyInstance | null;
  close(): Promise<void>;
}

/**
 * The gateway: serves the supergraph at `/graphql` (no runtime introspection of subgraphs), signs a
 * context per subgraph per request, and answers `/livez` and `/health`. Returned unstarted so tests
 * can drive it in-process.
 */
export async function createGateway(config: GatewayConfig): Promise<Gateway> {
  if (config.signingKey === null) throw new StartupError('CONTEXT_SIGNING_KEY is required');
  const signingKey = config.signingKey;
  const stopReporting = configureErrorReporting({
    dsn: config.sentryDsn,
    environment: config.environment,
    service: 'gateway',
  });
  const resources: Resources = { redis: null, edgeAudit: null };
  try {
    return await buildGateway(config, signingKey, resources, stopReporting);
  } catch (error) {
    // A start that fails leaves no connection open behind it.
    await resources.redis?.close();
    await resources.edgeAudit?.close(0);
    await stopReporting();
    throw error;
  }
}

async function buildGateway(
  config: GatewayConfig,
  signingKey: SigningKey,
  resources: Resources,
  stopReporting: () => Promise<void>,
): Promise<Gateway> {
  const supergraph = await loadSupergraph(config.supergraphPath, config.subgraphUrls);
  const signer = createContextSigner({ key: signingKey, clock: config.clock });
  const fetcher = createSubgraphFetcher({ timeoutMs: config.subgraphTimeoutMs });

  const production = config.environment === 'production';
  const app = createHttpServer({
    service: 'gateway',
    logLevel: config.logLevel,
    requestTimeoutMs: config.requestTimeoutMs,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy.length === 0 ? false : [...config.trustProxy],
    ...(config.tls === null ? {} : { tls: await readTlsFiles(config.tls) }),
  });
  registerSecurityHeaders(app, { production });
  const metrics = createServiceMetrics('gateway');
  // The gateway faces the internet: in production its metrics need METRICS_TOKEN, or stay off.
  registerMetrics(app, metrics, { token: config.metricsToken, enabled: !production || config.metricsToken !== null });
  if (config.trustProxy.length > 0) registerProxiedHttpsRedirect(app);
  registerSecurityTxt(app, () => config.clock.now());
  // One Redis for all shared state; in memory, counters and cached documents get a store each, so
  // a flood of counters cannot push documents out.
  const redis = config.redisUrl === null ? null : await openRedisState(config.redisUrl, 'gateway');
  resources.redis = redis;
  const rateState = redis ?? memoryState(() => config.clock.now());
  const documentState = redis ?? memoryState(() => config.clock.now());
  const rateLimiter = createRateLimiter(rateState, config.rateLimits, app.log, (scope) =>
    metrics.rateLimitRejections.inc({ scope }),
  );
  registerIpRateLimit(app, rateLimiter);
  const { url: ingestUrl, token: ingestToken } = config.auditIngest;
  const edgeAudit = createEdgeAudit({
    send: ingestUrl === null || ingestToken === null ? null : httpAuditSender(ingestUrl, ingestToken),
    clock: config.clock,
    log: app.log,
    registry: metrics.registry,
  });
  resources.edgeAudit = edgeAudit;
  // Refusals at the edge (forbidden fields, untrusted documents) go to the audit trail as well.
  const denials = createAccessDenials(app.log, 'gateway', (attempt) => {
    if (attempt.code === 'NOT_FOUND') return;
    edgeAudit.record({
      context: attempt.context,
      code: attempt.code,
      subject: attempt.field,
      ...(attempt.reason === undefined ? {} : { detail: attempt.reason }),
    });
  });
  const trustedDocuments = await loadTrustedDocuments(config.persistedQueryManifestPath);
  registerTrustedDocuments(app, trustedDocuments);
  // Clients and support quote it; the audit trail links a request's events by it.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const urls = new Map(supergraph.subgraphs.map((subgraph) => [subgraph.name, subgraph.url]));
  const identityUrl = config.identityUrl ?? urls.get('identity');
  if (config.authMode === 'session' && identityUrl === undefined) {
    throw new StartupError(
      'GATEWAY_AUTH_MODE=session needs an identity subgraph in the supergraph or GATEWAY_IDENTITY_URL (or set it to off)',
    );
  }
  const registry = config.fieldPolicyPath === null ? undefined : await loadFieldPolicyFile(config.fieldPolicyPath);
  const identityOptions =
    identityUrl === undefined ? null : { identityGraphqlUrl: identityUrl, fetcher: fetcher.fetch, signer };
  const resolveSession = identityOptions === null ? null : createSessionResolver(identityOptions);
  const resolveApiKey = identityOptions === null ? null : createApiKeyResolver(identityOptions);
  let apiSchema: GraphQLSchema | null = null;
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    logger: app.log,
    buildService: ({ name, url }) =>
      new SignedDataSource({
        name,
        url: urls.get(name) ?? url ?? '',
        fetcher: timedFetch(fetcher.fetch, (seconds, outcome) =>
          metrics.subgraphFetch.observe({ subgraph: name, outcome }, seconds),
        ),
        log: app.log,
      }),
  });

  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    apiSchema = schema;
  });

  const limitFormatted = limitFormatError(!production);
  const maskFormatted = maskingFormatError(app.log);
  registerBodyLimit(app, config.bodyLimitBytes);
  registerDocumentSizeLimit(app, config.limits, !production);
  const server = new ApolloServer<GatewayContext>({
    // Without authentication (development only, refused in production) there is no AccessMode to
    // decide on, and the gateway may serve a supergraph of subgraphs the registry does not describe.
    gateway:
      config.authMode === 'off'
        ? gateway
        : withEarlyRefusal(gateway, { denials, ...(registry === undefined ? {} : { registry }) }),
    logger: app.log,
    introspection: !production,
    // No "Did you mean …?" field names in production: they would map the schema for a caller.
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    // Limits are checked before planning: a refused operation reaches no subgraph and runs no resolver.
    validationRules: [operationLimitsRule(config.limits, !production)],
    parseOptions: { maxTokens: config.limits.maxTokens },
    // The web client's automatic persisted queries; off when only trusted documents may run.
    persistedQueries: config.trustedDocumentsOnly ? false : { cache: persistedQueryCache(documentState), ttl: 86_400 },
    formatError: (formatted, error) => maskFormatted(limitFormatted(formatted), error),
    plugins: [
      fastifyApolloDrainPlugin(app),
      requestIdPlugin<GatewayContext>((context) => context.forwarded.requestId),
      graphqlMetricsPlugin<GatewayContext>(metrics),
      sessionCookiePlugin(),
      edgeAuditPlugin(edgeAudit),
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

  // Credentialed browser requests only from the listed origins; without a list, none.
  await app.register(fastifyCors, {
    origin: [...config.corsOrigins],
    credentials: true,
    // PUT for file uploads (/uploads/...).
    methods: ['GET', 'HEAD', 'POST', 'PUT'],
    allowedHeaders: [
      'content-type',
      'authorization',
      'apollo-require-preflight',
      'x-apollo-operation-name',
      workspaceHeader,
      portfolioHeader,
    ],
    maxAge: 600,
  });
  await app.register(fastifyApollo(server), {
    path: '/graphql',
    method: ['GET', 'POST'],
    context: async (request) => {
      const context = await recordingRefusals(edgeAudit, request, () =>
        createGatewayContext(request, {
          authMode: config.authMode,
          signer,
          resolveSession,
          resolveApiKey,
          rateLimiter,
        }),
      );
      enforceTrustedDocuments(request, context.forwarded, { trustedOnly: config.trustedDocumentsOnly, denials });
      return context;
    },
  });
  // Fastify's own rule for request.ip, so a subscriber is counted and recorded by the same address.
  const trustedProxy = config.trustProxy.length === 0 ? null : proxyAddr.compile([...config.trustProxy]);
  const closeSubscriptions =
    config.authMode === 'off'
      ? async () => undefined
      : registerSubscriptionServer(app, {
          schema: () => apiSchema,
          validationRules: [operationLimitsRule(config.limits, !production)],
          maxTokens: config.limits.maxTokens,
          authenticate: (request) =>
            createGatewayContext(request, {
              authMode: config.authMode,
              signer,
              resolveSession,
              resolveApiKey,
              rateLimiter,
            }),
          // A socket already gone has no address, and proxy-addr would throw on it.
          clientIp: (request) =>
            trustedProxy === null || request.socket.remoteAddress === undefined
              ? (request.socket.remoteAddress ?? 'unknown')
              : proxyAddr(request, trustedProxy),
          subgraphUrls: urls,
          corsOrigins: config.corsOrigins,
          trustedDocuments,
          trustedDocumentsOnly: config.trustedDocumentsOnly,
          rateLimiter,
          audit: edgeAudit,
          recheckMs: config.subscriptions.recheckMs,
          connectionInitTimeoutMs: config.subscriptions.connectionInitTimeoutMs,
          maxConnections: config.subscriptions.maxConnections,
          production,
          signContext: (forwarded, audience) => signer.sign(forwarded, audience),
        });
  // File uploads and downloads need a caller, so there are none without authentication.
  const documentsUrl = urls.get('documents');
  if (config.authMode === 'session' && documentsUrl !== undefined) {
    await registerDocumentTransfers(app, {
      documentsUrl,
      timeoutMs: config.subgraphTimeoutMs,
      authenticate: (request, workspaceId) =>
        createGatewayContext(request, {
          authMode: config.authMode,
          signer,
          resolveSession,
          resolveApiKey,
          rateLimiter,
          ...(workspaceId === undefined ? {} : { workspaceId }),
        }),
    });
  }
  await app.ready();
  const httpsRedirect =
    config.httpRedirectPort === null
      ? null
      : createHttpsRedirectServer({ httpsPort: config.port, logLevel: config.logLevel });
  await httpsRedirect?.ready();

  return {
    app,
    httpsRedirect,
    async close() {
      await httpsRedirect?.close();
      await closeSubscriptions();
      await app.close();
      await edgeAudit.close(2_000);
      await fetcher.close();
      await redis?.close();
      await stopReporting();
    },
  };
}
