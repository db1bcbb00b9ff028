import type { FastifyRequest } from 'fastify';
import { anonymousContext, clientError, ErrorCode, isUuid, requestTokenCache } from '@numezis/runtime';
import type { ContextSigner, ForwardedContext } from '@numezis/runtime';
import type { AuthMode } from './config.ts';
import { readSessionCookie } from './session-cookie.ts';
import type { SessionInstruction } from './session-cookie.ts';
import type { SessionResolver } from './session-resolver.ts';

export interface GatewayContext {
  readonly forwarded: ForwardedContext;
  /** The signed context for one subgraph, minted at most once per subgraph per request. */
  readonly tokenFor: (subgraph: string) => string;
  /** Set when identity asks for the session cookie to change; applied to the client response. */
  readonly outgoingSession: { instruction: SessionInstruction | null };
  /** The request carried a session cookie that no longer names a usable session. */
  readonly staleSession: boolean;
}

/** Names the workspace a request acts in, among those the signed-in person belongs to. */
export const workspaceHeader = 'x-numezis-workspace';
const maxUserAgentLength = 512;

export async function createGatewayContext(
  request: FastifyRequest,
  options: { authMode: AuthMode; signer: ContextSigner; resolveSession: SessionResolver | null },
): Promise<GatewayContext> {
  const userAgent = request.headers['user-agent'];
  const basics = {
    requestId: request.id,
    clientIp: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, maxUserAgentLength) : null,
  };
  let forwarded = anonymousContext(basics);
  let staleSession = false;
  const workspaceId = requestedWorkspace(request);
  const token = readSessionCookie(request.headers.cookie);
  if (options.authMode === 'session' && token !== null && options.resolveSession !== null) {
    const resolved = await options.resolveSession(token, workspaceId, basics);
    if (resolved === null) staleSession = true;
    else forwarded = resolved;
  }
  return {
    forwarded,
    tokenFor: requestTokenCache(options.signer, forwarded),
    outgoingSession: { instruction: null },
    staleSession,
  };
}

function requestedWorkspace(request: FastifyRequest): string | null {
  const value = request.headers[workspaceHeader];
  if (value === undefined) return null;
  // Thrown while building the context, so Apollo needs the HTTP status spelled out (it strips it).
  if (!isUuid(value))
    throw clientError(ErrorCode.BAD_REQUEST, `${workspaceHeader} must be a workspace id`, { http: { status: 400 } });
  return value;
}
