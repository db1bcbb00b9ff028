import type { Fetcher } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { anonymousContext, contextHeader, ErrorCode, isPermission, isRole, isUuid } from '@numezis/runtime';
import type { ContextSigner, ForwardedContext } from '@numezis/runtime';

export type RequestBasics = Pick<ForwardedContext, 'requestId' | 'clientIp' | 'userAgent'>;

export type SessionResolver = (
  token: string,
  workspaceId: string | null,
  basics: RequestBasics,
) => Promise<ForwardedContext | null>;

/**
 * Asks identity who holds a session token, once per client request (no cache yet, so a revoked
 * session is refused on its very next request).
 */
export function createSessionResolver(options: {
  identityGraphqlUrl: string;
  fetcher: Fetcher;
  signer: ContextSigner;
}): SessionResolver {
  const url = new URL('/internal/sessions/resolve', options.identityGraphqlUrl).toString();
  return async (token, workspaceId, basics) => {
    let body: { session?: unknown };
    try {
      const response = await options.fetcher(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [contextHeader]: options.signer.sign(anonymousContext(basics), 'identity'),
        },
        body: JSON.stringify({ token, workspaceId }),
      });
      if (!response.ok) throw new Error(`identity answered ${response.status}`);
      body = (await response.json()) as { session?: unknown };
    } catch (error) {
      throw new GraphQLError('Sign-in is unavailable right now', {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } },
        originalError: error as Error,
      });
    }
    return parseSession(body.session, basics);
  };
}

function parseSession(value: unknown, basics: RequestBasics): ForwardedContext | null {
  if (typeof value !== 'object' || value === null) return null;
  const session = value as Record<string, unknown>;
  const { sessionId, userId, tenantId, role, permissions, mfaAt, mfaRequired } = session;
  if (!isUuid(sessionId) || !isUuid(userId)) return null;
  if (tenantId !== null && !isUuid(tenantId)) return null;
  if (role !== null && !isRole(role)) return null;
  if (!Array.isArray(permissions) || !permissions.every(isPermission)) return null;
  if (mfaAt !== null && typeof mfaAt !== 'number') return null;
  if (typeof mfaRequired !== 'boolean') return null;
  return {
    ...basics,
    actor: { kind: 'user', userId, sessionId },
    tenantId,
    role,
    permissions,
    mfaAt,
    mfaRequired,
  };
}

export type ApiKeyResolver = (key: string, basics: RequestBasics) => Promise<ForwardedContext | null>;

/** Asks identity which workspace and role a bearer API key holds, once per client request. */
export function createApiKeyResolver(options: {
  identityGraphqlUrl: string;
  fetcher: Fetcher;
  signer: ContextSigner;
}): ApiKeyResolver {
  const url = new URL('/internal/api-keys/resolve', options.identityGraphqlUrl).toString();
  return async (key, basics) => {
    let body: { apiKey?: unknown };
    try {
      const response = await options.fetcher(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [contextHeader]: options.signer.sign(anonymousContext(basics), 'identity'),
        },
        body: JSON.stringify({ key }),
      });
      if (!response.ok) throw new Error(`identity answered ${response.status}`);
      body = (await response.json()) as { apiKey?: unknown };
    } catch (error) {
      throw new GraphQLError('Authentication is unavailable right now', {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } },
        originalError: error as Error,
      });
    }
    if (typeof body.apiKey !== 'object' || body.apiKey === null) return null;
    const { keyId, tenantId, role, permissions } = body.apiKey as Record<string, unknown>;
    if (!isUuid(keyId) || !isUuid(tenantId) || !isRole(role)) return null;
    if (!Array.isArray(permissions) || !permissions.every(isPermission)) return null;
    return {
      ...basics,
      actor: { kind: 'apiKey', keyId },
      tenantId,
      role,
      permissions,
      mfaAt: null,
      mfaRequired: false,
    };
  };
}
