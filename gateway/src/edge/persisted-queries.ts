import { readFile } from 'node:fs/promises';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientError, ErrorCode } from '@numezis/runtime/errors';
import { StartupError } from '@numezis/runtime/server/run';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { AccessDenials } from '@numezis/runtime/security/access-denials';
import type { SharedState } from '@numezis/runtime/shared-state/shared-state';
import { sha256Hex } from '@numezis/schema';
import type { PersistedOperation } from '@numezis/schema';

/** The trusted documents by id, from the manifest `npm run compose` writes (schema/persisted-query-manifest.json). */
export type TrustedDocuments = ReadonlyMap<string, PersistedOperation>;

/** Reads and checks the manifest once at start: a wrong format or an id that is not its body's SHA-256 stops the start. */
export async function loadTrustedDocuments(path: string): Promise<TrustedDocuments> {
  const setting = 'GATEWAY_PERSISTED_QUERY_MANIFEST';
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new StartupError(`${setting}: cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const { format, version, operations } = (parsed ?? {}) as Record<string, unknown>;
  if (format !== 'apollo-persisted-query-manifest' || version !== 1 || !Array.isArray(operations)) {
    throw new StartupError(`${setting}: ${path} is not an Apollo persisted query manifest (version 1)`);
  }
  const documents = new Map<string, PersistedOperation>();
  for (const entry of operations as PersistedOperation[]) {
    if (typeof entry?.body !== 'string' || entry.id !== sha256Hex(entry.body)) {
      throw new StartupError(`${setting}: operation ${String(entry?.name)} has an id that is not its body's SHA-256`);
    }
    documents.set(entry.id, entry);
  }
  return documents;
}

interface GraphQLParams {
  query?: unknown;
  extensions?: unknown;
}

const requestsWithTrustedDocument = new WeakSet<FastifyRequest>();

function persistedHash(extensions: unknown): string | undefined {
  const parsed = typeof extensions === 'string' ? safeJson(extensions) : extensions;
  const hash = (parsed as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const paramsOf = (request: FastifyRequest): GraphQLParams | undefined => {
  const source = request.method === 'GET' ? request.query : request.body;
  return typeof source === 'object' && source !== null && !Array.isArray(source) ? source : undefined;
};

/**
 * A request naming a trusted document by id (`extensions.persistedQuery.sha256Hash`, by POST or by
 * GET) runs that document: the gateway puts its body in place before Apollo sees the request, so
 * it needs no registration and no cache. GET answers are `Cache-Control: private`, since they hold
 * one workspace's data.
 */
export function registerTrustedDocuments(app: FastifyInstance, documents: TrustedDocuments): void {
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url !== '/graphql') return;
    const params = paramsOf(request);
    if (params === undefined) return;
    const hash = persistedHash(params.extensions);
    const document = hash === undefined ? undefined : documents.get(hash);
    if (document === undefined) return;
    // Resolved here: Apollo's own persisted-query handling must not see it again.
    if (request.method === 'GET') {
      // Apollo reads a GET request's parameters from the URL itself.
      const url = new URL(request.raw.url ?? '/graphql', 'http://gateway');
      url.searchParams.set('query', document.body);
      url.searchParams.delete('extensions');
      request.raw.url = `${url.pathname}${url.search}`;
    } else {
      params.query = document.body;
      delete params.extensions;
    }
    requestsWithTrustedDocument.add(request);
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.method === 'GET' && request.routeOptions.url === '/graphql') {
      reply.header('cache-control', 'private, no-cache');
    }
  });
}

/**
 * Partners (API keys) run trusted documents only, and so does everyone when
 * GATEWAY_TRUSTED_DOCUMENTS_ONLY is set. Anything else is refused, before planning, and recorded as
 * a possible unauthorized access attempt with the caller it came from.
 */
export function enforceTrustedDocuments(
  request: FastifyRequest,
  forwarded: ForwardedContext,
  options: { readonly trustedOnly: boolean; readonly denials: AccessDenials },
): void {
  if (request.routeOptions.url !== '/graphql' || requestsWithTrustedDocument.has(request)) return;
  if (!options.trustedOnly && forwarded.actor.kind !== 'apiKey') return;
  const params = paramsOf(request);
  const unknownId = persistedHash(params?.extensions) !== undefined && typeof params?.query !== 'string';
  const code = unknownId ? ErrorCode.PERSISTED_QUERY_NOT_FOUND : ErrorCode.PERSISTED_QUERY_REQUIRED;
  options.denials.record({ field: 'Operation.document', code: 'FORBIDDEN', reason: code, context: forwarded });
  throw clientError(
    code,
    unknownId
      ? 'No trusted document has this id'
      : 'Only trusted documents may run here: send extensions.persistedQuery.sha256Hash of one',
    { http: { status: 400 } },
  );
}

/**
 * Automatic persisted queries of the web client, in the shared state: bounded in memory, or in
 * Redis for all replicas.
 */
export function persistedQueryCache(state: SharedState): KeyValueCache<string> {
  return {
    get: (key) => state.get(`apq:${key}`),
    set: (key, value, options) => state.set(`apq:${key}`, value, (options?.ttl ?? 86_400) * 1000),
    delete: (key) => state.delete(`apq:${key}`),
  };
}
