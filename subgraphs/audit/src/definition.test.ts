import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startInProcessSubgraph, systemClock } from '@numezis/runtime';
import type { InProcessSubgraph } from '@numezis/runtime';
import { readAuditSettings } from './config.ts';
import { createAuditSubgraph } from './definition.ts';

// mercurius keeps `resolveReference` on the type object, which a `mapSchema` rebuild drops; then
// `_entities` would echo any representation back unchecked. These go through the real subgraph.
describe('audit subgraph: access directives through mercurius', () => {
  let subgraph: InProcessSubgraph;
  before(async () => {
    subgraph = await startInProcessSubgraph(createAuditSubgraph(readAuditSettings({}, 'test'), systemClock), {
      env: process.env,
    });
  });
  after(() => subgraph.close());

  const entities =
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { auditLog { eventCount } } } }';

  it("resolves the active workspace's entity and answers another workspace's key with null", async () => {
    const own = randomUUID();
    const foreign = randomUUID();
    const result = await subgraph.post(own, entities, {
      variables: {
        r: [
          { __typename: 'Tenant', id: own },
          { __typename: 'Tenant', id: foreign },
        ],
      },
    });
    assert.deepEqual(result.data, { _entities: [{ auditLog: { eventCount: 0 } }, null] });
  });

  it('answers an unknown audit event key with null rather than echoing it', async () => {
    const result = await subgraph.post(
      randomUUID(),
      '{ _entities(representations: [{ __typename: "AuditEvent", id: "' +
        randomUUID() +
        '" }]) { ... on AuditEvent { id action } } }',
    );
    assert.deepEqual(result, { data: { _entities: [null] } });
  });

  it('enforces @requiresPermission on its fields', async () => {
    const tenantId = randomUUID();
    const result = await subgraph.post(tenantId, '{ auditEvents { id } }', { role: 'VIEWER' });
    assert.equal(result.data?.auditEvents, null);
    assert.equal(result.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(result.errors?.[0]?.extensions?.permission, 'audit.read');
    const summary = await subgraph.post(tenantId, entities, {
      role: 'VIEWER',
      variables: { r: [{ __typename: 'Tenant', id: tenantId }] },
    });
    assert.deepEqual(summary.data, { _entities: [{ auditLog: null }] });
    assert.equal(summary.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });
});
