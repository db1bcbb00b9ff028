import { reportError } from '../observability/error-reporting.ts';
import { unwrapResolverError } from '@apollo/server/errors';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { FastifyBaseLogger } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, internalErrorMessage, isClientErrorCode } from '../errors.ts';

/**
 * Lets through errors that carry a code from the catalogue; anything else is logged with its cause
 * and replaced by a generic message, so no stack, SQL or internal detail reaches a client.
 */
export function maskingFormatError(
  log: FastifyBaseLogger,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    if (isClientErrorCode(formatted.extensions?.code)) return formatted;
    const cause = unwrapResolverError(error);
    log.error({ err: cause, path: formatted.path }, 'unexpected error in GraphQL execution');
    reportError(cause, { path: formatted.path?.join('.') });
    return {
      message: internalErrorMessage,
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/** Adds the request id to every error, so a client can quote it and we can find the logs. */
export function requestIdPlugin<Context extends BaseContext>(
  requestIdOf: (context: Context) => string | undefined,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || response.body.singleResult.errors === undefined) return;
          const requestId = requestIdOf(contextValue);
          if (requestId === undefined) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((error) => ({
            ...error,
            extensions: { ...error.extensions, requestId },
          }));
        },
      };
    },
  };
}
