import type { FastifyInstance } from 'fastify';
import { ErrorCode, errorBody, isUuid } from '@numezis/runtime';
import type { Clock, DataAccess } from '@numezis/runtime';
import { resolveSession } from './sessions.ts';
import type { SessionPolicy } from './sessions.ts';

export const resolveSessionPath = '/internal/sessions/resolve';

/**
 * The gateway turns a session cookie into the caller's access here, once per client request. Like
 * every route of a subgraph it needs the gateway's signature, so only the gateway can ask.
 */
export function registerSessionResolution(
  app: FastifyInstance,
  options: { dataAccess: DataAccess; clock: Clock; policy: SessionPolicy },
): void {
  app.post(resolveSessionPath, async (request, reply) => {
    const body = request.body as { token?: unknown; workspaceId?: unknown } | undefined;
    const token = body?.token;
    const workspaceId = body?.workspaceId ?? null;
    if (typeof token !== 'string' || (workspaceId !== null && !isUuid(workspaceId))) {
      return reply.status(400).send(errorBody(ErrorCode.BAD_REQUEST, 'token and workspaceId expected', request.id));
    }
    const session = await resolveSession(options.dataAccess, {
      token,
      requestedWorkspaceId: workspaceId,
      clock: options.clock,
      policy: options.policy,
    });
    return { session };
  });
}
