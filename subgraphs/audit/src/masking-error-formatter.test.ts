import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import type { FastifyBaseLogger } from 'fastify';
import { clientError, ErrorCode } from '@numezis/runtime';
import { maskingErrorFormatter } from './masking-error-formatter.ts';

const logged: unknown[] = [];
const log = { error: (entry: unknown) => logged.push(entry) } as unknown as FastifyBaseLogger;
const format = maskingErrorFormatter(log);
const context = { forwarded: { requestId: 'req-7' } };

describe('audit subgraph error masking', () => {
  it('replaces unexpected errors by a generic message with the request id, and logs the cause', () => {
    const cause = new Error('connection to 10.0.0.5 failed: password authentication failed');
    const error = new GraphQLError(cause.message, { originalError: cause, path: ['auditEvents'] });
    const { statusCode, response } = format({ data: null, errors: [error] }, context);
    assert.equal(statusCode, 500);
    assert.deepEqual(response.errors, [
      {
        message: 'Internal server error',
        path: ['auditEvents'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-7' },
      },
    ]);
    assert.doesNotMatch(JSON.stringify(response), /10\.0\.0\.5|password/);
    assert.equal(logged.length, 1);
  });

  it('keeps catalogue errors and labels document errors', () => {
    const denied = clientError(ErrorCode.UNAUTHENTICATED, 'This operation needs an active workspace');
    const wrapped = new GraphQLError(denied.message, { originalError: denied, extensions: denied.extensions });
    const invalid = new GraphQLError('Cannot query field "nope" on type "Query".');
    const { response } = format({ data: { auditEvents: null }, errors: [wrapped, invalid] }, context);
    assert.deepEqual(
      response.errors?.map((error) => error.extensions?.code),
      ['UNAUTHENTICATED', 'GRAPHQL_VALIDATION_FAILED'],
    );
  });
});
