import { graphqlMetricsPlugin } from '../observability/metrics.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { BaseContext } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, parse } from 'graphql';
import type { DocumentNode, GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import type { ForwardedContext } from '../context/signed-context.ts';
import type { Clock } from '../clock.ts';
import type { DataAccess } from '../db/data-access.ts';
import { auditDeniedReads, auditMutationsTransformer, withoutAuditTrail } from '../audit/mutation-audit.ts';
import { withAccessDirectives } from '@numezis/schema';
import { createAccessDenials } from '../security/access-denials.ts';
import { accessDirectivesTransformer } from './access-directives.ts';
import { maskingFormatError, requestIdPlugin } from './graphql-errors.ts';
import { forwardedContextOf } from './require-signed-context.ts';
import type { SystemJob } from '../jobs/system-jobs.ts';
import type { SubgraphDefinition, SubgraphDependencies } from './subgraph-service.ts';

export interface SubgraphContext extends BaseContext {
  readonly forwarded: ForwardedContext;
}

/**
 * Serves an Apollo Federation subgraph at `POST /graphql` on the service's Fastify app. Unexpected
 * errors are logged in full and reach the client as a generic message with the request id.
 */
export async function mountApolloSubgraph<Context extends SubgraphContext>(
  app: FastifyInstance,
  options: {
    name: string;
    /** The subgraph's SDL, access directives included (`withAccessDirectives`). */
    typeDefs: DocumentNode;
    resolvers: GraphQLResolverMap<Context>;
    context: (forwarded: ForwardedContext, http: { request: FastifyRequest; reply: FastifyReply }) => Context;
    metrics: ServiceMetrics;
    /** Where the mutations' audit events are written (the service's outbox) and their clock. */
    dataAccess: DataAccess;
    clock: Clock;
    /** The benchmark's seam (`BenchmarkSeams.recordAudit`); never set otherwise. */
    recordAudit?: false;
  },
): Promise<void> {
  const audit = { service: options.name, dataAccess: options.dataAccess, clock: options.clock, log: app.log };
  const enforceAccess = accessDirectivesTransformer(
    createAccessDenials(app.log, options.name, auditDeniedReads(audit)),
  );
  // The audit wrapper goes outside the access checks, so a refused mutation is recorded as well.
  const recordMutations =
    options.recordAudit === false ? benchmarkUnrecordedMutations : auditMutationsTransformer(audit);
  const server = new ApolloServer<Context>({
    schema: recordMutations(
      enforceAccess(
        buildSubgraphSchema({
          typeDefs: options.typeDefs,
          resolvers: options.resolvers as GraphQLResolverMap<unknown>,
        }),
      ),
    ),
    logger: app.log,
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Timing traces would tell a caller how long our queries take; nothing here consumes them.
      ApolloServerPluginInlineTraceDisabled(),
      requestIdPlugin<Context>((context) => context.forwarded.requestId),
      graphqlMetricsPlugin<Context>(options.metrics),
    ],
    includeStacktraceInErrorResponses: false,
    formatError: maskingFormatError(app.log),
  });
  await server.start();
  await app.register(fastifyApollo(server), {
    path: '/graphql',
    method: ['POST'],
    context: async (request: FastifyRequest, reply: FastifyReply) =>
      options.context(forwardedContextOf(request), { request, reply }),
  });
}

/**
 * The benchmark's "audit off" (`BenchmarkSeams.recordAudit: false`): the same mutations without the
 * audit wrapper, each in a scope where the resolver's `auditChange` writes nothing. auditChange
 * would fail outside any scope, so the resolvers run unchanged.
 */
function benchmarkUnrecordedMutations(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.MUTATION_ROOT_FIELD]: (field) => {
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      return {
        ...field,
        resolve: (source, args, context, info) => withoutAuditTrail(() => resolve(source, args, context, info)),
      };
    },
  });
}

export interface SubgraphFiles {
  /** The subgraph's SDL: the single source for its schema and for composition. */
  readonly schemaFile: URL;
  readonly migrationsDir: URL;
  readonly defaultDataDir: string;
}

/** An Apollo subgraph service: its SDL file, its resolvers and its per-request context. */
export function defineApolloSubgraph<Context extends SubgraphContext, Prepared = undefined>(options: {
  name: string;
  defaultPort: number;
  files: SubgraphFiles;
  /**
   * Runs once at start, before the resolvers are built (to load keys, say); what it returns is
   * handed to `resolvers`. A failure here stops the start like any other start-up error.
   */
  prepare?: (dependencies: SubgraphDependencies, app: FastifyInstance) => Promise<Prepared>;
  resolvers: (dependencies: SubgraphDependencies, prepared: Prepared) => GraphQLResolverMap<Context>;
  context: (
    dependencies: SubgraphDependencies,
    forwarded: ForwardedContext,
    http: { request: FastifyRequest; reply: FastifyReply },
  ) => Context;
  /** Routes besides /graphql, behind the same signed-context check (service-to-service calls). */
  routes?: (app: FastifyInstance, dependencies: SubgraphDependencies) => void;
  jobs?: readonly SystemJob[];
}): SubgraphDefinition {
  return {
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    name: options.name,
    auditOutbox: true,
    defaultPort: options.defaultPort,
    migrationsDir: options.files.migrationsDir,
    defaultDataDir: options.files.defaultDataDir,
    async mountGraphQL(app, dependencies) {
      const prepared = (
        options.prepare === undefined ? undefined : await options.prepare(dependencies, app)
      ) as Prepared;
      await mountApolloSubgraph<Context>(app, {
        name: options.name,
        typeDefs: parse(withAccessDirectives(await readFile(options.files.schemaFile, 'utf8'))),
        resolvers: options.resolvers(dependencies, prepared),
        context: (forwarded, http) => options.context(dependencies, forwarded, http),
        metrics: dependencies.metrics,
        dataAccess: dependencies.dataAccess,
        clock: dependencies.config.clock,
        ...(dependencies.benchmarkSeams?.recordAudit === false ? { recordAudit: false as const } : {}),
      });
      options.routes?.(app, dependencies);
    },
  };
}
