import type { FastifyBaseLogger } from 'fastify';
import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode, internalErrorMessage, isClientErrorCode, reportError } from '@numezis/runtime';
import type { ForwardedContext } from '@numezis/runtime';

/**
 * mercurius's counterpart of the Apollo subgraphs' masking: catalogue codes pass, parse and
 * validation errors get their code, and anything unexpected is logged and replaced by a generic
 * message. Every error carries the request id.
 */
export function maskingErrorFormatter(log: FastifyBaseLogger) {
  return (
    execution: ExecutionResult & { errors: readonly GraphQLError[] },
    context: unknown,
  ): { statusCode: number; response: ExecutionResult | { data?: unknown; errors: GraphQLFormattedError[] } } => {
    const requestId = (context as { forwarded?: ForwardedContext } | undefined)?.forwarded?.requestId;
    let statusCode = execution.data === undefined || execution.data === null ? 400 : 200;
    const errors = execution.errors.map((error): GraphQLFormattedError => {
      const formatted = error.toJSON();
      const code = formatted.extensions?.code;
      if (isClientErrorCode(code)) return { ...formatted, extensions: { ...formatted.extensions, requestId } };
      if (error.originalError === undefined) {
        // Raised by graphql-js itself before any resolver ran: the client's document is at fault.
        return { ...formatted, extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, requestId } };
      }
      statusCode = execution.data === undefined || execution.data === null ? 500 : statusCode;
      log.error({ err: error.originalError, path: error.path }, 'unexpected error in GraphQL execution');
      reportError(error.originalError, { path: error.path?.join('.'), requestId });
      return {
        message: internalErrorMessage,
        ...(error.path === undefined ? {} : { path: error.path }),
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId },
      };
    });
    return { statusCode, response: { ...(execution.data === undefined ? {} : { data: execution.data }), errors } };
  };
}
