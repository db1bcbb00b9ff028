import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startInProcessSubgraph } from '@numezis/runtime';
import type { InProcessSubgraph } from '@numezis/runtime';
import { documentsSubgraph } from './definition.ts';

const register = 'mutation ($input: RegisterDocumentInput!) { registerDocument(input: $input) { id } }';

describe('documents', () => {
  let subgraph: InProcessSubgraph;
  const statements: string[] = [];
  const tenant = randomUUID();

  before(async () => {
    subgraph = await startInProcessSubgraph(documentsSubgraph, {
      env: process.env,
      onQuery: (statement) => statements.push(statement),
    });
  });
  after(() => subgraph.close());

  it('refuses file types other than PDF and scans, and malformed entry ids, naming the field', async () => {
    const wrongType = await subgraph.post(tenant, register, {
      variables: { input: { fileName: 'run.exe', contentType: 'application/x-msdownload' } },
    });
    assert.deepEqual(
      [wrongType.errors?.[0]?.extensions?.code, wrongType.errors?.[0]?.extensions?.field],
      ['BAD_USER_INPUT', 'contentType'],
    );
    const badEntry = await subgraph.post(tenant, register, {
      variables: { input: { fileName: 'a.pdf', contentType: 'application/pdf', journalEntryId: 'x' } },
    });
    assert.equal(badEntry.errors?.[0]?.extensions?.field, 'journalEntryId');
  });

  it('loads the documents of many journal entries in one query', async () => {
    const entries = [randomUUID(), randomUUID(), randomUUID()];
    for (const journalEntryId of entries) {
      await subgraph.post(tenant, register, {
        variables: { input: { fileName: `${journalEntryId}.pdf`, contentType: 'application/pdf', journalEntryId } },
      });
    }
    statements.length = 0;
    const result = await subgraph.post(
      tenant,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on JournalEntry { id documents { fileName } } } }',
      { variables: { r: entries.map((id) => ({ __typename: 'JournalEntry', id })) } },
    );
    assert.deepEqual(
      result.data?._entities,
      entries.map((id) => ({ id, documents: [{ fileName: `${id}.pdf` }] })),
    );
    assert.equal(statements.filter((statement) => /from "documents"\."documents"/i.test(statement)).length, 1);
  });
});
