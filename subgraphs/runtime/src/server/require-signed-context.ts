import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextHeader } from '../context/signed-context.ts';
import type { ContextVerifier, ForwardedContext } from '../context/signed-context.ts';
import { ErrorCode, errorBody } from '../errors.ts';

const contexts = new WeakMap<FastifyRequest, ForwardedContext>();
// Probes, and metrics (which have their own token): never data, so no gateway signature.
const openPaths = new Set(['/livez', '/health', '/metrics']);

/**
 * Default deny for a subgraph: every route but the health probes needs a valid context signed by
 * the gateway for this subgraph. The check runs before the body is even read, so a request without
 * it touches no data.
 */
export function requireSignedContext(
  app: FastifyInstance,
  verifier: ContextVerifier,
  /** Service-to-service routes that check a credential of their own (the audit ingest's token). */
  ownAuthenticationPaths: readonly string[] = [],
): void {
  const unsigned = new Set([...openPaths, ...ownAuthenticationPaths]);
  app.addHook('onRequest', async (request, reply) => {
    if (unsigned.has(request.url.split('?')[0] ?? '')) return;
    const header = request.headers[contextHeader];
    const result = verifier.verify(Array.isArray(header) ? undefined : header);
    if (!result.ok) {
      request.log.warn({ reason: result.reason, ip: request.ip }, 'request without a valid gateway signature refused');
      return reply
        .status(401)
        .send(errorBody(ErrorCode.UNAUTHENTICATED, 'A valid gateway signature is required', request.id));
    }
    contexts.set(request, result.context);
    request.log = request.log.child({ gatewayRequestId: result.context.requestId });
  });
}

/** The verified context of a request that passed requireSignedContext. */
export function forwardedContextOf(request: FastifyRequest): ForwardedContext {
  const context = contexts.get(request);
  if (context === undefined) throw new Error('request has no verified context');
  return context;
}
