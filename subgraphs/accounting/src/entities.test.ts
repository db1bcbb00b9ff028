import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startInProcessSubgraph } from '@numezis/runtime';
import type { InProcessSubgraph } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';

const tenantA = randomUUID();
const tenantB = randomUUID();

describe('accounting entity resolution', () => {
  let subgraph: InProcessSubgraph;
  const statements: string[] = [];

  before(async () => {
    subgraph = await startInProcessSubgraph(accountingSubgraph, {
      env: process.env,
      onQuery: (statement) => statements.push(statement),
    });
  });
  after(() => subgraph.close());

  it('resolves many references with one query, and only the active workspace’s', async () => {
    const ids: string[] = [];
    for (const number of ['1000', '1020', '1100']) {
      const result = await subgraph.post(
        tenantA,
        `mutation { createAccount(input: { number: "${number}", name: "A", type: ASSET }) { id } }`,
      );
      ids.push((result.data?.createAccount as { id: string }).id);
    }
    const representations = [...ids, randomUUID()].map((id) => ({ __typename: 'Account', id }));
    const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id number } } }';

    statements.length = 0;
    const asA = await subgraph.post(tenantA, entities, { variables: { r: representations } });
    assert.deepEqual(asA.data?._entities, [
      { id: ids[0], number: '1000' },
      { id: ids[1], number: '1020' },
      { id: ids[2], number: '1100' },
      null,
    ]);
    assert.equal(statements.filter((statement) => /from "accounting"\."accounts"/i.test(statement)).length, 1);

    const asB = await subgraph.post(tenantB, entities, { variables: { r: representations } });
    assert.deepEqual(asB.data?._entities, [null, null, null, null]);
  });
});
