import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import { OperationTypeNode } from 'graphql';
import { clientError, ErrorCode } from '@numezis/runtime/errors';

/**
 * A subscription sent by HTTP gets a clear answer (where to send it) instead of whatever
 * @apollo/gateway makes of an operation it cannot plan. It wraps the executor, so it answers only
 * what the access decision let through: a caller without the permission learns only that.
 */
export function refusingSubscriptionsOverHttp(execute: GatewayExecutor): GatewayExecutor {
  return async (requestContext) => {
    if (requestContext.operation.operation !== OperationTypeNode.SUBSCRIPTION) return execute(requestContext);
    return {
      errors: [
        clientError(
          ErrorCode.BAD_REQUEST,
          'Subscriptions run over WebSocket: open /graphql with the graphql-transport-ws protocol',
        ),
      ],
    };
  };
}
