import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcessSubgraph } from '@numezis/runtime';
import type { InProcessSubgraph } from '@numezis/runtime';
import { identitySubgraph } from './definition.ts';

const createWorkspace =
  'mutation { createWorkspace(input: { name: "  Muster AG ", ownerDisplayName: "Anna" }) { workspace { id name plan } owner { id } } }';

describe('workspaces', () => {
  let development: InProcessSubgraph;
  let production: InProcessSubgraph;

  before(async () => {
    development = await startInProcessSubgraph(identitySubgraph, { env: process.env });
    production = await startInProcessSubgraph(identitySubgraph, { env: process.env, environment: 'production' });
  });
  after(async () => {
    await development.close();
    await production.close();
  });

  it('creates a workspace with its owner as a member, visible only from inside it', async () => {
    const created = (await development.post(null, createWorkspace)).data?.createWorkspace as {
      workspace: { id: string; name: string; plan: string };
      owner: { id: string };
    };
    assert.equal(created.workspace.name, 'Muster AG');
    assert.equal(created.workspace.plan, 'FREE');

    const inside = await development.post(created.workspace.id, '{ workspace { id members { id displayName } } }');
    assert.deepEqual(inside.data, {
      workspace: { id: created.workspace.id, members: [{ id: created.owner.id, displayName: 'Anna' }] },
    });
    const outside = await development.post(null, '{ workspace { id } }');
    assert.equal(outside.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('refuses empty names, naming the field', async () => {
    const result = await development.post(
      null,
      'mutation { createWorkspace(input: { name: "   ", ownerDisplayName: "Anna" }) { workspace { id } } }',
    );
    assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(result.errors?.[0]?.extensions?.field, 'name');
  });

  it('refuses anonymous workspace creation in production', async () => {
    const result = await production.post(null, createWorkspace);
    assert.equal(result.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });
});
