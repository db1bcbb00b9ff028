import type { FastifyRequest } from 'fastify';
import { tenantIdOf } from '@numezis/runtime/context/access-mode';
import { anonymousContext, isUuid, requestTokenCache } from '@numezis/runtime/context/signed-context';
import { clientError, ErrorCode } from '@numezis/runtime/errors';
import type { ContextSigner, ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { AuthMode } from './config.ts';
import { checkCallerRateLimits } from './edge/rate-limits.ts';
import type { RateLimiter } from './edge/rate-limits.ts';
import { readSessionCookie } from './session-cookie.ts';
import type { SessionInstruction } from './session-cookie.ts';
import type { ApiKeyResolver, SessionResolver } from './session-resolver.ts';

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
/** Names a fiduciary firm's workspace: the request reads across the firm's client workspaces. */
export const portfolioHeader = 'x-numezis-portfolio';
const maxUserAgentLength = 512;

/** What authentication reads of a request: an HTTP request, or a WebSocket upgrade. */
export type AuthenticatedRequest = Pick<FastifyRequest, 'id' | 'ip' | 'headers'>;

export async function createGatewayContext(
  request: AuthenticatedRequest,
  options: {
    authMode: AuthMode;
    signer: ContextSigner;
    resolveSession: SessionResolver | null;
    resolveApiKey: ApiKeyResolver | null;
    /** The workspace a URL names (upload and download links); a header naming another is refused. */
    workspaceId?: string;
    /** Counts the request against its API key's and workspace's limits once they are known. */
    rateLimiter?: RateLimiter;
  },
): Promise<GatewayContext> {
  const userAgent = request.headers['user-agent'];
  const basics = {
    requestId: request.id,
    clientIp: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, maxUserAgentLength) : null,
  };
  let forwarded = anonymousContext(basics);
  let staleSession = false;
  const headerWorkspaceId = requestedWorkspace(request, workspaceHeader);
  if (options.workspaceId !== undefined && headerWorkspaceId !== null && headerWorkspaceId !== options.workspaceId) {
    throw clientError(ErrorCode.BAD_REQUEST, `${workspaceHeader} names another workspace than the URL`, {
      http: { status: 400 },
    });
  }
  const workspaceId = options.workspaceId ?? headerWorkspaceId;
  const portfolioFirmId = requestedWorkspace(request, portfolioHeader);
  if (workspaceId !== null && portfolioFirmId !== null) {
    throw clientError(ErrorCode.BAD_REQUEST, `Send either ${workspaceHeader} or ${portfolioHeader}, not both`, {
      http: { status: 400 },
    });
  }
  const bearer = bearerToken(request);
  const token = readSessionCookie(request.headers.cookie);
  if (options.authMode === 'session' && bearer !== null && options.resolveApiKey !== null) {
    // A partner's key: the one workspace and role it was made for, whatever else the request says.
    // Reading across a firm's clients is for the firm's people, never for a partner's key.
    if (portfolioFirmId !== null) {
      throw clientError(ErrorCode.FORBIDDEN, 'An API key cannot read a portfolio', { http: { status: 403 } });
    }
    const resolved = await options.resolveApiKey(bearer, basics);
    if (resolved === null) {
      throw clientError(ErrorCode.UNAUTHENTICATED, 'The API key is invalid or revoked', { http: { status: 401 } });
    }
    if (workspaceId !== null && workspaceId !== tenantIdOf(resolved.access)) {
      throw clientError(ErrorCode.FORBIDDEN, 'This API key acts in another workspace', { http: { status: 403 } });
    }
    forwarded = resolved;
  } else if (options.authMode === 'session' && token !== null && options.resolveSession !== null) {
    const resolved = await options.resolveSession(token, { workspaceId, portfolioFirmId }, basics);
    if (resolved === null) staleSession = true;
    else forwarded = resolved;
  }
  if (options.rateLimiter !== undefined) await checkCallerRateLimits(options.rateLimiter, forwarded);
  return {
    forwarded,
    tokenFor: requestTokenCache(options.signer, forwarded),
    outgoingSession: { instruction: null },
    staleSession,
  };
}

function bearerToken(request: AuthenticatedRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer (\S+)$/i.exec(header);
  if (match === null) {
    throw clientError(ErrorCode.UNAUTHENTICATED, 'Authorization must be "Bearer <API key>"', { http: { status: 401 } });
  }
  return match[1] ?? null;
}

function requestedWorkspace(request: AuthenticatedRequest, header: string): string | null {
  const value = request.headers[header];
  if (value === undefined) return null;
  // Thrown while building the context, so Apollo needs the HTTP status spelled out (it strips it).
  if (!isUuid(value))
    throw clientError(ErrorCode.BAD_REQUEST, `${header} must be a workspace id`, { http: { status: 400 } });
  return value;
}
