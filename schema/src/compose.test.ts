import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { composeSupergraph, CompositionError } from './compose.ts';
import { subgraphSources, supergraphFile } from './subgraphs.ts';

describe('supergraph composition', () => {
  it('the committed supergraph is what the subgraph SDLs compose to', async () => {
    assert.equal(await readFile(supergraphFile, 'utf8'), await composeSupergraph(subgraphSources));
  });

  it('reports composition errors instead of writing a broken supergraph', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compose-'));
    const conflicting = join(dir, 'conflict.graphql');
    // Redefines Tenant.name with another type than identity's: composition must refuse it.
    await writeFile(
      conflicting,
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])\n' +
        'type Tenant @key(fields: "id") { id: ID! name: Int! @shareable }\n' +
        'type Query { other: Tenant }\n',
    );
    await assert.rejects(
      composeSupergraph([
        ...subgraphSources,
        { name: 'conflict', url: 'http://127.0.0.1:1/graphql', sdlFile: pathToFileURL(conflicting) },
      ]),
      (error: unknown) =>
        error instanceof CompositionError && error.details.some((line) => line.includes('Tenant.name')),
    );
  });
});
