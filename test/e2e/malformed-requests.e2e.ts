import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { sharedStack } from '../src/shared-stack.ts';

const { gatewayUrl, origin } = sharedStack();
const json = { 'content-type': 'application/json' };

/** The invariants of every error answer: JSON with an errors array and a code, no stack, no HTML. */
function assertGraphQLError(result: GraphQLResult, status: number, code: string) {
  assert.equal(result.status, status, result.text);
  assert.match(result.contentType ?? '', /^application\/(graphql-response\+)?json/);
  assert.ok(Array.isArray(result.body.errors) && result.body.errors.length > 0, result.text);
  assert.equal(result.body.errors[0]?.extensions?.code, code, result.text);
  assert.doesNotMatch(result.text, /\n\s+at |<html|node_modules|\.ts:\d+/i);
}

describe('malformed requests get GraphQL errors, never a 500, HTML or a stack', () => {
  it('bad JSON', async () => {
    assertGraphQLError(
      await send(gatewayUrl, { method: 'POST', headers: json, body: '{"query": ' }),
      400,
      'BAD_REQUEST',
    );
  });

  it('a body without a query', async () => {
    assertGraphQLError(await send(gatewayUrl, { method: 'POST', headers: json, body: '{}' }), 400, 'BAD_REQUEST');
    assertGraphQLError(
      await send(gatewayUrl, { method: 'POST', headers: json, body: '{"variables": {}}' }),
      400,
      'BAD_REQUEST',
    );
  });

  it('a syntax error', async () => {
    assertGraphQLError(
      await send(gatewayUrl, { method: 'POST', headers: json, body: JSON.stringify({ query: '{ workspace { ' }) }),
      400,
      'GRAPHQL_PARSE_FAILED',
    );
  });

  it('a syntax error, asked for as application/graphql-response+json, answers in that type with 400', async () => {
    const result = await send(gatewayUrl, {
      method: 'POST',
      headers: { ...json, accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ workspace { ' }),
    });
    assertGraphQLError(result, 400, 'GRAPHQL_PARSE_FAILED');
    assert.match(result.contentType ?? '', /^application\/graphql-response\+json/);
  });

  it('a field that does not exist', async () => {
    assertGraphQLError(
      await send(gatewayUrl, { method: 'POST', headers: json, body: JSON.stringify({ query: '{ nope }' }) }),
      400,
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it('variables of the wrong type', async () => {
    const body = JSON.stringify({
      query: 'query ($n: Int!) { journalEntries(first: $n) { id } }',
      variables: { n: 'x' },
    });
    assertGraphQLError(await send(gatewayUrl, { method: 'POST', headers: json, body }), 400, 'BAD_USER_INPUT');
  });

  it('a simple cross-site request (CSRF) is refused', async () => {
    assertGraphQLError(
      await send(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{"query":"{__typename}"}',
      }),
      400,
      'BAD_REQUEST',
    );
  });

  it('a body over the limit', async () => {
    const body = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(2 * 1024 * 1024)}` });
    assertGraphQLError(await send(gatewayUrl, { method: 'POST', headers: json, body }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('an unknown path', async () => {
    assertGraphQLError(await send(`${origin}/nowhere`, { method: 'GET' }), 404, 'NOT_FOUND');
  });

  it('a header that is not a workspace id', async () => {
    const result = await send(gatewayUrl, {
      method: 'POST',
      headers: { ...json, 'x-numezis-workspace': "1' or '1'='1" },
      body: JSON.stringify({ query: '{ workspace { id } }' }),
    });
    assert.equal(result.body.errors?.[0]?.extensions?.code, 'BAD_REQUEST');
    assert.notEqual(result.status, 500);
  });
});
