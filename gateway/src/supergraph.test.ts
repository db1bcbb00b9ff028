import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSupergraph } from './supergraph.ts';

const committed = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));

describe('supergraph loading', () => {
  it('lists the subgraphs with their composed URLs, overridden by name', async () => {
    const { subgraphs } = await loadSupergraph(committed, { documents: 'http://documents.internal:4003/graphql' });
    assert.deepEqual(subgraphs, [
      { name: 'accounting', url: 'http://127.0.0.1:4002/graphql' },
      { name: 'audit', url: 'http://127.0.0.1:4004/graphql' },
      { name: 'documents', url: 'http://documents.internal:4003/graphql' },
      { name: 'identity', url: 'http://127.0.0.1:4001/graphql' },
    ]);
  });

  it('refuses an override for a subgraph the supergraph does not have', async () => {
    await assert.rejects(loadSupergraph(committed, { payroll: 'http://x/graphql' }), /GATEWAY_SUBGRAPH_URL_PAYROLL/);
  });

  it('names the setting when the file is missing', async () => {
    await assert.rejects(loadSupergraph('/nonexistent/supergraph.graphql', {}), /GATEWAY_SUPERGRAPH_PATH/);
  });
});
