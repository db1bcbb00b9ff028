import { GraphQLError } from 'graphql';

/**
 * The closed catalogue of error codes a client may see in `errors[].extensions.code`. Tests assert
 * these codes, so they are part of the API: add, never rename.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  PERSISTED_QUERY_REQUIRED: 'PERSISTED_QUERY_REQUIRED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  OPERATION_LIMIT_EXCEEDED: 'OPERATION_LIMIT_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const clientCodes: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
);

export function isClientErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && clientCodes.has(code);
}

/** A domain error the client caused or is allowed to know about. */
export function clientError(
  code: Exclude<ErrorCode, 'INTERNAL_SERVER_ERROR'>,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function badUserInput(field: string, message: string): GraphQLError {
  return clientError(ErrorCode.BAD_USER_INPUT, message, { field });
}

export const internalErrorMessage = 'Internal server error';

/**
 * The GraphQL-over-HTTP error body for failures that happen before GraphQL execution (bad JSON,
 * oversized body, missing signature): same shape as an execution error, never an HTML page or a stack.
 * `details` adds extensions such as the offending `field`, as `badUserInput` does.
 */
export function errorBody(
  code: ErrorCode,
  message: string,
  requestId?: string,
  details: Readonly<Record<string, unknown>> = {},
): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  const extensions: Record<string, unknown> = { ...details, code };
  if (requestId !== undefined) extensions.requestId = requestId;
  return { errors: [{ message, extensions }] };
}
