import type { Fetcher } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { parseRequestAccess } from '@numezis/runtime/context/access-mode';
import { anonymousContext, contextHeader, isUuid } from '@numezis/runtime/context/signed-context';
import { ErrorCode } from '@numezis/runtime/errors';
import type { ContextSigner, ForwardedContext } from '@numezis/runtime/context/signed-context';

export type RequestBasics = Pick<ForwardedContext, 'requestId' | 'clientIp' | 'userAgent'>;

/** What the request asks to act in: one workspace, a firm's portfolio, or (both null) the session's own. */
export interface SessionTarget {
  readonly workspaceId: string | null;
  readonly portfolioFirmId: string | null;
}

export type SessionResolver = (
  token: string,
  target: SessionTarget,
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
  return async (token, target, basics) => {
    const { session } = await call(
      { token, workspaceId: target.workspaceId, portfolioFirmId: target.portfolioFirmId },
      basics,
    );
    if (typeof session !== 'object' || session === null) return null;
    const { sessionId, userId, access, mfaAt, mfaRequired } = session as Record<string, unknown>;
    const parsed = parseRequestAccess(access);
    if (!isUuid(sessionId) || !isUuid(userId) || parsed === null || parsed.kind === 'anonymous') return null;
    if (mfaAt !== null && typeof mfaAt !== 'number') return null;
    if (typeof mfaRequired !== 'boolean') return null;
    return { ...basics, actor: { kind: 'user', userId, sessionId }, access: parsed, mfaAt, mfaRequired };
  };
}

/** Turns a bearer API key into the one workspace and role it was made for. */
export function createApiKeyResolver(options: IdentityOptions): ApiKeyResolver {
  const call = identityCall(options, '/internal/api-keys/resolve');
  return async (key, basics) => {
    const { apiKey } = await call({ key }, basics);
    if (typeof apiKey !== 'object' || apiKey === null) return null;
    const { keyId, access } = apiKey as Record<string, unknown>;
    const parsed = parseRequestAccess(access);
    if (!isUuid(keyId) || parsed?.kind !== 'tenant') return null;
    return {
      ...basics,
      actor: { kind: 'apiKey', keyId },
      access: parsed,
      mfaAt: null,
      mfaRequired: false,
    };
  };
}
