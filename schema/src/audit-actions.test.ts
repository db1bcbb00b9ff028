import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { buildASTSchema, parse } from 'graphql';
import { auditActionSpec, mutationAuditActions, otherAuditActions } from './audit-actions.ts';
import { supergraphFile } from './subgraphs.ts';

describe('audit action catalogue', () => {
  it('names an action for exactly the mutations the supergraph has', async () => {
    const schema = buildASTSchema(parse(await readFile(supergraphFile, 'utf8')), { assumeValidSDL: true });
    const mutations = Object.keys(schema.getMutationType()?.getFields() ?? {}).map((field) => `Mutation.${field}`);
    assert.ok(mutations.length > 30, 'the supergraph has its mutations');
    assert.deepEqual(Object.keys(mutationAuditActions).sort(), mutations.sort());
  });

  it('never gives two causes the same action', () => {
    const actions = [...Object.values(mutationAuditActions), ...Object.values(otherAuditActions)].map(
      (spec) => spec.action,
    );
    assert.equal(new Set(actions).size, actions.length);
    for (const action of actions) assert.match(action, /^[a-z_]+\.[a-z_]+$/);
    assert.equal(auditActionSpec('ledger.entry_posted')?.retention, 'accounting');
    assert.equal(auditActionSpec('made.up'), undefined);
  });
});
