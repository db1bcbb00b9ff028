import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { anonymousContext } from '@numezis/runtime/context/signed-context';
import { ErrorCode } from '@numezis/runtime/errors';
import type { GatewayContext } from '../request-context.ts';
import type { EdgeAudit } from './edge-audit.ts';

const refusedAtAuthentication = new Set<string>([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.RATE_LIMITED,
]);

/**
 * Builds a request's context and records it in the audit trail when authentication refuses it (a
 * revoked API key, a key used for another workspace, a caller over its rate limit).
 */
export async function recordingRefusals(
  audit: EdgeAudit,
  request: FastifyRequest,
  build: () => Promise<GatewayContext>,
): Promise<GatewayContext> {
  try {
    return await build();
  } catch (error) {
    const code = error instanceof GraphQLError ? error.extensions.code : undefined;
    if (typeof code === 'string' && refusedAtAuthentication.has(code)) {
      const userAgent = request.headers['user-agent'];
      audit.record({
        context: anonymousContext({
          requestId: request.id,
          clientIp: request.ip,
          userAgent: typeof userAgent === 'string' ? userAgent : null,
        }),
        code,
        subject: code === ErrorCode.RATE_LIMITED ? 'Request.rateLimit' : 'Request.authentication',
      });
    }
    throw error;
  }
}

/** Operations refused by the gateway's limits (depth, aliases, cost, ...) before planning. */
export function edgeAuditPlugin(audit: EdgeAudit): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          const limit = errors.find((error) => error.extensions.code === ErrorCode.OPERATION_LIMIT_EXCEEDED);
          if (limit === undefined || contextValue.forwarded === undefined) return;
          const kind = limit.extensions.limit;
          audit.record({
            context: contextValue.forwarded,
            code: ErrorCode.OPERATION_LIMIT_EXCEEDED,
            subject: 'Operation.document',
            ...(typeof kind === 'string' ? { detail: kind } : {}),
            operationName: operationName ?? null,
          });
        },
      };
    },
  };
}
