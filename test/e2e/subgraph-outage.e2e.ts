import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dataOf, graphql, send } from '../src/client.ts';
import { createWorkspace, postEntryWithReceipt } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// Its own stack: stopping a subgraph must not disturb the other tests.
let stack: TestStack;
let workspace: Workspace;
let entryId: string;
let documentId: string;

const query =
  '{ workspace { name auditLog { eventCount } } journalEntries { id documents { id } } auditEvents { id } }';
const health = () => send(`http://127.0.0.1:${stack.ports.gateway}/health`, { method: 'GET' });

describe('one subgraph down', () => {
  before(async () => {
    stack = await startTestStack();
    workspace = await createWorkspace(stack);
    ({ entryId, documentId } = await postEntryWithReceipt(stack.gatewayUrl, workspace));
  });
  after(() => stack.close());

  it('the gateway answers what it can, names the missing service, and reports unhealthy', async () => {
    assert.equal((await health()).status, 200);
    const code = await stack.stop('audit');
    assert.equal(
      code,
      0,
      `audit stops cleanly on SIGTERM; its last lines:\n${stack.logs('audit').slice(-15).join('\n')}`,
    );

    const result = await graphql<Record<string, unknown>>(stack.gatewayUrl, query, { as: workspace });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body.data, {
      workspace: { name: workspace.name, auditLog: null },
      journalEntries: [{ id: entryId, documents: [{ id: documentId }] }],
      auditEvents: null,
    });
    const codes = (result.body.errors ?? []).map((error) => [error.extensions?.code, error.extensions?.serviceName]);
    assert.ok(codes.length > 0);
    for (const code of codes) assert.deepEqual(code, ['SUBGRAPH_UNAVAILABLE', 'audit']);
    assert.doesNotMatch(result.text, /127\.0\.0\.1|ECONNREFUSED|fetch failed/);

    const unhealthy = await health();
    assert.equal(unhealthy.status, 503);
    assert.equal((unhealthy.body as { checks?: Record<string, string> }).checks?.audit, 'unavailable');
  });

  it('recovers when the subgraph is back, without restarting the gateway', async () => {
    await stack.start('audit');
    assert.equal((await health()).status, 200);
    const data = dataOf(
      await graphql<{ auditEvents: unknown[] | null; workspace: { auditLog: unknown } }>(stack.gatewayUrl, query, {
        as: workspace,
      }),
    );
    assert.ok(Array.isArray(data.auditEvents));
    assert.notEqual(data.workspace.auditLog, null);
  });
});
