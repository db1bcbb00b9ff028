import { HeaderMap } from '@apollo/server';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { clientError, errorBody, ErrorCode } from '@numezis/runtime/errors';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { SharedState } from '@numezis/runtime/shared-state/shared-state';
import type { GraphQLError } from 'graphql';

/** Requests per minute, per client address, per API key and per workspace. */
export interface RateLimits {
  readonly perIp: number;
  readonly perApiKey: number;
  readonly perWorkspace: number;
}

export const defaultRateLimits: RateLimits = { perIp: 600, perApiKey: 1_200, perWorkspace: 3_000 };

export type RateLimitScope = 'ip' | 'apiKey' | 'workspace';

const windowMs = 60_000;

export interface RateLimiter {
  /** The scope whose limit this request exceeds, with the seconds until its window ends; null when within. */
  exceeded(
    scope: RateLimitScope,
    id: string,
  ): Promise<{ readonly scope: RateLimitScope; readonly retryAfterSeconds: number } | null>;
}

/**
 * Fixed one-minute windows in the shared state. When the state cannot be reached (Redis down) the
 * request is let through and the outage logged: limits protect availability, and refusing every
 * request would end it.
 */
export function createRateLimiter(
  state: SharedState,
  limits: RateLimits,
  log: FastifyBaseLogger,
  onRejected: (scope: RateLimitScope) => void,
): RateLimiter {
  const limitOf: Record<RateLimitScope, number> = {
    ip: limits.perIp,
    apiKey: limits.perApiKey,
    workspace: limits.perWorkspace,
  };
  return {
    async exceeded(scope, id) {
      let hit: { count: number; resetInMs: number };
      try {
        hit = await state.hit(`rate:${scope}:${id}`, windowMs);
      } catch (error) {
        log.warn({ err: error, scope }, 'rate limit state unavailable; request let through');
        return null;
      }
      if (hit.count <= limitOf[scope]) return null;
      onRejected(scope);
      return { scope, retryAfterSeconds: Math.max(1, Math.ceil(hit.resetInMs / 1000)) };
    },
  };
}

const message = 'Too many requests; retry after the time in Retry-After';

/**
 * Per client address, on every route but health probes and security.txt, before any other work:
 * an unauthenticated flood never reaches identity.
 */
export function registerIpRateLimit(app: FastifyInstance, limiter: RateLimiter): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/livez' || request.url === '/health' || request.url.startsWith('/.well-known/')) return;
    const over = await limiter.exceeded('ip', request.ip);
    if (over === null) return;
    return reply
      .status(429)
      .header('retry-after', String(over.retryAfterSeconds))
      .send(errorBody(ErrorCode.RATE_LIMITED, message, request.id, { scope: over.scope }));
  });
}

/**
 * Per API key and per workspace, once the caller is known; the error carries status 429 and
 * Retry-After for Apollo and the file routes alike.
 */
export async function checkCallerRateLimits(limiter: RateLimiter, forwarded: ForwardedContext): Promise<void> {
  const checks: [RateLimitScope, string][] = [];
  if (forwarded.actor.kind === 'apiKey') checks.push(['apiKey', forwarded.actor.keyId]);
  const access = forwarded.access;
  if (access.kind === 'tenant') checks.push(['workspace', access.tenantId]);
  if (access.kind === 'portfolio') checks.push(['workspace', access.firmTenantId]);
  // Counted at once: one round trip to the shared state instead of one per window.
  const results = await Promise.all(checks.map(([scope, id]) => limiter.exceeded(scope, id)));
  const over = results.find((result) => result !== null) ?? null;
  if (over !== null) throw rateLimitedError(over.scope, over.retryAfterSeconds);
}

export function rateLimitedError(scope: RateLimitScope, retryAfterSeconds: number): GraphQLError {
  return clientError(ErrorCode.RATE_LIMITED, message, {
    scope,
    retryAfterSeconds,
    http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
  });
}
