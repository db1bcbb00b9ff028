import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
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

/**
 * POSTs `body` and reads the answer even when it comes before the body is sent: the gateway refuses
 * an oversized body from its Content-Length and closes the connection without reading the rest
 * (Fastify does, so a client cannot keep sending), which makes fetch fail with EPIPE on a loaded
 * machine. A client that listens while it writes, like this one, gets the 413.
 */
function postReadingEarlyAnswer(url: string, body: string): Promise<GraphQLResult> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { ...json, 'content-length': Buffer.byteLength(body) },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'] ?? null,
          setCookie: null,
          requestId: null,
          body: JSON.parse(text) as GraphQLResult['body'],
          text,
        });
      });
    });
    // The write may fail once the gateway has answered and closed; only a failure without an answer counts.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.end(body);
  });
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
    assertGraphQLError(await postReadingEarlyAnswer(gatewayUrl, body), 413, 'PAYLOAD_TOO_LARGE');
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
