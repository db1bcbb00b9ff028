import type { FastifyRequest } from 'fastify';
import { clientError, ErrorCode, isUuid, requestTokenCache } from '@numezis/runtime';
import type { Actor, ContextSigner, ForwardedContext } from '@numezis/runtime';
import type { AuthMode } from './config.ts';

export interface GatewayContext {
  readonly forwarded: ForwardedContext;
  /** The signed context for one subgraph, minted at most once per subgraph per request. */
  readonly tokenFor: (subgraph: string) => string;
}

export const devWorkspaceHeader = 'x-numezis-dev-workspace';
export const devUserHeader = 'x-numezis-dev-user';
const maxUserAgentLength = 512;

/** Who is calling and in which workspace, as the subgraphs will see it. */
export function resolveForwardedContext(request: FastifyRequest, authMode: AuthMode): ForwardedContext {
  let actor: Actor = { kind: 'anonymous' };
  let tenantId: string | null = null;
  if (authMode === 'insecure-dev-headers') {
    tenantId = uuidHeader(request, devWorkspaceHeader);
    const userId = uuidHeader(request, devUserHeader);
    if (userId !== null) actor = { kind: 'user', userId };
  }
  const userAgent = request.headers['user-agent'];
  return {
    requestId: request.id,
    clientIp: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, maxUserAgentLength) : null,
    actor,
    tenantId,
  };
}

function uuidHeader(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  if (value === undefined) return null;
  // Thrown while building the context, so Apollo needs the HTTP status spelled out (it strips it).
  if (!isUuid(value)) throw clientError(ErrorCode.BAD_REQUEST, `${name} must be a UUID`, { http: { status: 400 } });
  return value;
}

export function createGatewayContext(signer: ContextSigner, forwarded: ForwardedContext): GatewayContext {
  return { forwarded, tokenFor: requestTokenCache(signer, forwarded) };
}
