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

export type ApiKeyResolver = (key: string, basics: RequestBasics) => Promise<ForwardedContext | null>;

interface IdentityOptions {
  readonly identityGraphqlUrl: string;
  readonly fetcher: Fetcher;
  readonly signer: ContextSigner;
}

/**
 * One call to identity's resolution routes, signed like any subgraph request. There is no cache
 * yet, so a revoked session or key is refused on its very next request; identity being down means
 * nobody can be authenticated, which the client learns as SERVICE_UNAVAILABLE.
 */
function identityCall(options: IdentityOptions, path: string) {
  const url = new URL(path, options.identityGraphqlUrl).toString();
  return async (body: object, basics: RequestBasics): Promise<Record<string, unknown>> => {
    try {
      const response = await options.fetcher(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [contextHeader]: options.signer.sign(anonymousContext(basics), 'identity'),
        },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`identity answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    } catch (error) {
      throw new GraphQLError('Authentication is unavailable right now', {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } },
        originalError: error as Error,
      });
    }
  };
}

/** Turns a session cookie into the caller's access in the requested workspace. */
export function createSessionResolver(options: IdentityOptions): SessionResolver {
  const call = identityCall(options, '/internal/sessions/resolve');
  return async (token, workspaceId, basics) => {
    const { session } = await call({ token, workspaceId }, basics);
    if (typeof session !== 'object' || session === null) return null;
    const { sessionId, userId, tenantId, role, permissions, mfaAt, mfaRequired } = session as Record<string, unknown>;
    if (!isUuid(sessionId) || !isUuid(userId)) return null;
    if (tenantId !== null && !isUuid(tenantId)) return null;
    if (role !== null && !isRole(role)) return null;
    if (!Array.isArray(permissions) || !permissions.every(isPermission)) return null;
    if (mfaAt !== null && typeof mfaAt !== 'number') return null;
    if (typeof mfaRequired !== 'boolean') return null;
    return { ...basics, actor: { kind: 'user', userId, sessionId }, tenantId, role, permissions, mfaAt, mfaRequired };
  };
}

/** Turns a bearer API key into the one workspace and role it was made for. */
export function createApiKeyResolver(options: IdentityOptions): ApiKeyResolver {
  const call = identityCall(options, '/internal/api-keys/resolve');
  return async (key, basics) => {
    const { apiKey } = await call({ key }, basics);
    if (typeof apiKey !== 'object' || apiKey === null) return null;
    const { keyId, tenantId, role, permissions } = apiKey as Record<string, unknown>;
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
