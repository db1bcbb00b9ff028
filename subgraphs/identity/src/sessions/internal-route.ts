import type { FastifyInstance } from 'fastify';
import { and, eq, isNull } from 'drizzle-orm';
import { ErrorCode, errorBody, isUuid, rolePermissions } from '@numezis/runtime';
import type { Clock, DataAccess } from '@numezis/runtime';
import { resolveSession } from './sessions.ts';
import type { SessionPolicy } from './sessions.ts';

import { hashToken, isWellFormedApiKey } from '../auth/tokens.ts';
import { apiKeys } from '../tables.ts';

export const resolveSessionPath = '/internal/sessions/resolve';
export const resolveApiKeyPath = '/internal/api-keys/resolve';

// Like sessions' last-seen time: precise to the minute is enough, and saves a write per request.
const lastUsedResolutionMs = 60_000;

/**
 * The gateway turns a session cookie into the caller's access here, once per client request. Like
 * every route of a subgraph it needs the gateway's signature, so only the gateway can ask.
 */
export function registerSessionResolution(
  app: FastifyInstance,
  options: { dataAccess: DataAccess; clock: Clock; policy: SessionPolicy },
): void {
  app.post(resolveSessionPath, async (request, reply) => {
    const body = request.body as { token?: unknown; workspaceId?: unknown; portfolioFirmId?: unknown } | undefined;
    const token = body?.token;
    const workspaceId = body?.workspaceId ?? null;
    const portfolioFirmId = body?.portfolioFirmId ?? null;
    if (
      typeof token !== 'string' ||
      (workspaceId !== null && !isUuid(workspaceId)) ||
      (portfolioFirmId !== null && !isUuid(portfolioFirmId)) ||
      (workspaceId !== null && portfolioFirmId !== null)
    ) {
      return reply
        .status(400)
        .send(errorBody(ErrorCode.BAD_REQUEST, 'token, and workspaceId or portfolioFirmId, expected', request.id));
    }
    const session = await resolveSession(options.dataAccess, {
      token,
      requestedWorkspaceId: workspaceId,
      requestedPortfolioFirmId: portfolioFirmId,
      clock: options.clock,
      policy: options.policy,
    });
    return { session };
  });
}

/** The gateway turns a bearer API key into its workspace and role here, once per client request. */
export function registerApiKeyResolution(
  app: FastifyInstance,
  options: { dataAccess: DataAccess; clock: Clock },
): void {
  app.post(resolveApiKeyPath, async (request, reply) => {
    const key = (request.body as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string') {
      return reply.status(400).send(errorBody(ErrorCode.BAD_REQUEST, 'key expected', request.id));
    }
    if (!isWellFormedApiKey(key)) return { apiKey: null };
    const tokenHash = hashToken(key);
    const now = options.clock.now();
    const [found] = await options.dataAccess.inScope({ tokenHash: tokenHash.toString('hex') }, (tx) =>
      tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.tokenHash, tokenHash), isNull(apiKeys.revokedAt))),
    );
    if (found !== undefined && (found.lastUsedAt === null || now - found.lastUsedAt.getTime() > lastUsedResolutionMs)) {
      await options.dataAccess.inTenant(found.tenantId, (tx) =>
        tx
          .update(apiKeys)
          .set({ lastUsedAt: new Date(now) })
          .where(eq(apiKeys.id, found.id)),
      );
    }
    if (found === undefined) return { apiKey: null };
    return {
      apiKey: {
        keyId: found.id,
        access: {
          kind: 'tenant',
          tenantId: found.tenantId,
          role: found.role,
          permissions: rolePermissions[found.role],
        },
      },
    };
  });
}
