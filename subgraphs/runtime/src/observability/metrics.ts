import { timingSafeEqual } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { errorBody, ErrorCode, isClientErrorCode } from '../errors.ts';
import { onAccessDenied } from '../security/access-denials.ts';

/**
 * Prometheus metrics of one service, served at `/metrics`: requests, errors by code, latency per
 * route, per GraphQL operation and (gateway) per subgraph, unauthorized-access attempts and
 * rate-limit rejections. Labels only take values from closed sets (routes, catalogue codes, at most
 * `maxOperationNames` operation names), so a client cannot grow them without bound.
 */
export interface ServiceMetrics {
  readonly registry: Registry;
  readonly rateLimitRejections: Counter<'scope'>;
  readonly subgraphFetch: Histogram<'subgraph' | 'outcome'>;
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const maxOperationNames = 200;

interface Instruments extends ServiceMetrics {
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  readonly operations: Counter<'operation' | 'type' | 'outcome'>;
  readonly operationDuration: Histogram<'operation' | 'type'>;
  readonly errors: Counter<'code'>;
  readonly unauthorized: Counter<'code' | 'reason'>;
}

const instruments = new WeakMap<ServiceMetrics, Instruments>();

export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const metrics: Instruments = {
    registry,
    httpRequests: new Counter({
      name: 'numezis_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'numezis_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route and method',
      labelNames: ['route', 'method'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    operations: new Counter({
      name: 'numezis_graphql_operations_total',
      help: 'GraphQL operations, by operation name, type and outcome (ok or error)',
      labelNames: ['operation', 'type', 'outcome'],
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: 'numezis_graphql_operation_duration_seconds',
      help: 'Time to answer a GraphQL operation, by operation name and type',
      labelNames: ['operation', 'type'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'numezis_graphql_errors_total',
      help: 'GraphQL errors returned, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    unauthorized: new Counter({
      name: 'numezis_unauthorized_access_attempts_total',
      help: 'Refused or fruitless attempts at data (FORBIDDEN, UNAUTHENTICATED, by-id misses, untrusted documents)',
      labelNames: ['code', 'reason'],
      registers: [registry],
    }),
    rateLimitRejections: new Counter({
      name: 'numezis_rate_limit_rejections_total',
      help: 'Requests refused with 429, by scope',
      labelNames: ['scope'],
      registers: [registry],
    }),
    subgraphFetch: new Histogram({
      name: 'numezis_subgraph_request_duration_seconds',
      help: 'Time the gateway waited for a subgraph, by subgraph and outcome',
      labelNames: ['subgraph', 'outcome'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
  };
  onAccessDenied((attempt) => metrics.unauthorized.inc({ code: attempt.code, reason: attempt.reason ?? '' }));
  instruments.set(metrics, metrics);
  return metrics;
}

function instrumentsOf(metrics: ServiceMetrics): Instruments {
  const found = instruments.get(metrics);
  if (found === undefined) throw new Error('metrics were not made by createServiceMetrics');
  return found;
}

/**
 * Counts and times every HTTP request, and serves `/metrics`. With a token, only
 * `Authorization: Bearer <token>` may read them; `enabled: false` (a public gateway in production
 * without a token) answers 404 as for any unknown path.
 */
export function registerMetrics(
  app: FastifyInstance,
  metrics: ServiceMetrics,
  options: { readonly token: string | null; readonly enabled: boolean },
): void {
  const { httpRequests, httpDuration, registry } = instrumentsOf(metrics);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  if (!options.enabled) return;
  const expected = options.token === null ? null : Buffer.from(`Bearer ${options.token}`);
  app.get('/metrics', async (request, reply) => {
    const presented = Buffer.from(request.headers.authorization ?? '');
    if (expected !== null && (presented.length !== expected.length || !timingSafeEqual(presented, expected))) {
      return reply
        .status(401)
        .send(errorBody(ErrorCode.UNAUTHENTICATED, 'Metrics need their bearer token', request.id));
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** Operations and errors of an Apollo server (the gateway's and the Apollo subgraphs'). */
export function graphqlMetricsPlugin<Context extends BaseContext>(
  metrics: ServiceMetrics,
): ApolloServerPlugin<Context> {
  const { operations, operationDuration, errors } = instrumentsOf(metrics);
  const names = new Set<string>();
  const labelOf = (name: string | null | undefined) => {
    if (name === null || name === undefined || !/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size >= maxOperationNames) return 'other';
    names.add(name);
    return name;
  };
  const codeLabel = (code: unknown) => (isClientErrorCode(code) ? code : 'INTERNAL_SERVER_ERROR');
  return {
    // Refusals while the caller is worked out (a bad key, a rate limit, an untrusted document) never
    // reach an operation, but are errors all the same.
    async contextCreationDidFail({ error }) {
      errors.inc({ code: codeLabel((error as { extensions?: { code?: unknown } }).extensions?.code) });
    },
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, operation, response }) {
          const operationLabel = labelOf(operationName);
          const type = operation?.operation ?? 'unknown';
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const codes = (result?.errors ?? []).map((error) => error.extensions?.code);
          for (const code of codes) errors.inc({ code: codeLabel(code) });
          operations.inc({ operation: operationLabel, type, outcome: codes.length === 0 ? 'ok' : 'error' });
          operationDuration.observe(
            { operation: operationLabel, type },
            Number(process.hrtime.bigint() - started) / 1e9,
          );
        },
      };
    },
  };
}
