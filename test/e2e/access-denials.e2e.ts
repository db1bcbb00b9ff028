import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ServiceName } from '@numezis/runtime';
import { graphql, send } from '../src/client.ts';
import { createApiKey, createWorkspace, postEntryWithReceipt } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import { runTrustedDocument } from '../src/trusted-documents.ts';
import type { TestStack } from '../src/test-stack.ts';

// Its own stack: the assertions read the services' own log lines, which only the launcher sees.
let stack: TestStack;
let alpha: Workspace;
let beta: Workspace;
let betaEntry: { entryId: string; documentId: string };

interface DenialLine {
  readonly event: string;
  readonly service: string;
  readonly field: string;
  readonly code: string;
  readonly actor: string;
  readonly tenantId?: string;
  readonly count: number;
}

/** The `access_denied` line a service logged for `field` on behalf of `who`. */
function denialLogged(service: ServiceName, who: Workspace, field: string): Promise<DenialLine> {
  return stack
    .waitForLog(
      service,
      (line) => line.includes('"access_denied"') && line.includes(who.userId) && line.includes(field),
    )
    .then((line) => JSON.parse(line) as DenialLine);
}

describe('denied attempts are counted and logged as possible unauthorized access', () => {
  before(async () => {
    stack = await startTestStack();
    alpha = await createWorkspace(stack);
    beta = await createWorkspace(stack);
    betaEntry = await postEntryWithReceipt(stack.gatewayUrl, beta);
  });
  after(() => stack.close());

  it("logs each by-id miss on another workspace's rows, in the subgraph that missed", async () => {
    const result = await graphql(
      stack.gatewayUrl,
      'query ($entry: ID!, $document: ID!) { journalEntry(id: $entry) { id } document(id: $document) { id } }',
      { as: alpha, variables: { entry: betaEntry.entryId, document: betaEntry.documentId } },
    );
    assert.deepEqual(result.body.data, { journalEntry: null, document: null });
    const accounting = await denialLogged('accounting', alpha, 'Query.journalEntry');
    const { event, service, code, actor, tenantId } = accounting;
    assert.deepEqual(
      { event, service, code, actor, tenantId },
      {
        event: 'access_denied',
        service: 'accounting',
        code: 'NOT_FOUND',
        actor: `user:${alpha.userId}`,
        tenantId: alpha.workspaceId,
      },
    );
    assert.equal((await denialLogged('documents', alpha, 'Query.document')).code, 'NOT_FOUND');
  });

  it('logs a NOT_FOUND answer to a mutation by id, and counts repeats', async () => {
    const unlink = `mutation { unlinkFiduciary(fiduciaryWorkspaceId: "${randomUUID()}") }`;
    const first = await graphql(stack.gatewayUrl, unlink, { as: alpha });
    assert.equal(first.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    const logged = await denialLogged('identity', alpha, 'Mutation.unlinkFiduciary');
    await graphql(stack.gatewayUrl, unlink, { as: alpha });
    const again = await stack.waitForLog(
      'identity',
      (line) =>
        line.includes('Mutation.unlinkFiduciary') &&
        line.includes(alpha.userId) &&
        line.includes(`"count":${logged.count + 1}`),
    );
    assert.match(again, /"code":"NOT_FOUND"/);
  });

  it('never logs what the client typed: no arguments, no address', async () => {
    const probe = randomUUID();
    await graphql(stack.gatewayUrl, `{ journalEntry(id: "${probe}") { id } }`, { as: alpha });
    // The first test's miss counted 1 for this field in accounting: this one is the second.
    await stack.waitForLog(
      'accounting',
      (line) => line.includes('"access_denied"') && line.includes(alpha.userId) && line.includes('"count":2'),
    );
    for (const service of ['gateway', 'identity', 'accounting', 'documents', 'audit'] as const) {
      const lines = stack.logs(service);
      assert.ok(!lines.some((line) => line.includes(probe)), `${service} logged the probed id`);
      const denials = lines.filter((line) => line.includes('"access_denied"'));
      assert.ok(!denials.some((line) => /clientIp|127\.0\.0\.1/.test(line)), `${service} logged an address`);
    }
  });

  it("refuses a partner's document outside the trusted ones and logs it with the key", async () => {
    const key = await createApiKey(stack, alpha);
    const headers = { authorization: `Bearer ${key.secret}` };
    const freeText = await graphql(stack.gatewayUrl, '{ accounts { id } }', { headers });
    assert.equal(freeText.status, 400, freeText.text);
    assert.equal(freeText.body.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_REQUIRED');
    const unknownId = await send(stack.gatewayUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
    });
    assert.equal(unknownId.body.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    for (const reason of ['PERSISTED_QUERY_REQUIRED', 'PERSISTED_QUERY_NOT_FOUND']) {
      const line = await stack.waitForLog(
        'gateway',
        (candidate) =>
          candidate.includes('"access_denied"') && candidate.includes(`apiKey:${key.id}`) && candidate.includes(reason),
      );
      assert.match(line, /possible unauthorized access attempt/);
      assert.doesNotMatch(line, /accounts/, 'the document itself is not logged');
    }
    // The same key runs a trusted document.
    const trusted = await runTrustedDocument(stack.gatewayUrl, 'Accounts', { headers });
    assert.equal(trusted.status, 200, trusted.text);
  });

  it('counts the denied attempts in every service’s Prometheus metrics', async () => {
    const metricsOf = async (url: string) => {
      const response = await fetch(new URL('/metrics', url));
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      return response.text();
    };
    const sample = (text: string, name: string, labels: RegExp) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(`${name}{`) && labels.test(line))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);

    // A burst of misses in accounting (the earlier tests refused untrusted documents at the gateway).
    // A workspace of its own: enrolling TOTP above replaced alpha's session.
    const gamma = await createWorkspace(stack);
    const gatewayBefore = sample(await metricsOf(stack.gatewayUrl), 'numezis_unauthorized_access_attempts_total', /.*/);
    for (let index = 0; index < 5; index++) {
      await graphql(stack.gatewayUrl, `{ journalEntry(id: "${randomUUID()}") { id } }`, { as: gamma });
    }
    const accounting = await metricsOf(stack.subgraphUrl('accounting'));
    assert.ok(sample(accounting, 'numezis_unauthorized_access_attempts_total', /code="NOT_FOUND"/) >= 5);
    assert.ok(sample(accounting, 'numezis_graphql_operations_total', /outcome="ok"/) > 0);
    assert.match(accounting, /numezis_http_request_duration_seconds_bucket\{/);
    const gateway = await metricsOf(stack.gatewayUrl);
    assert.ok(sample(gateway, 'numezis_unauthorized_access_attempts_total', /.*/) >= gatewayBefore);
    assert.ok(sample(gateway, 'numezis_unauthorized_access_attempts_total', /reason="PERSISTED_QUERY_REQUIRED"/) >= 1);
    assert.ok(sample(gateway, 'numezis_subgraph_request_duration_seconds_count', /subgraph="accounting"/) >= 5);
    assert.ok(sample(gateway, 'numezis_graphql_errors_total', /code="PERSISTED_QUERY_REQUIRED"/) >= 1);
  });
});
