import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { buildPersistedQueryManifest, sha256Hex } from './persisted-queries.ts';
import { persistedQueryManifestFile, supergraphFile } from './subgraphs.ts';

describe('trusted documents manifest', () => {
  it('is committed in Apollo format, ids the SHA-256 of each body', async () => {
    const manifest = JSON.parse(await readFile(persistedQueryManifestFile, 'utf8')) as {
      format: string;
      version: number;
      operations: { id: string; name: string; type: string; body: string }[];
    };
    assert.equal(manifest.format, 'apollo-persisted-query-manifest');
    assert.equal(manifest.version, 1);
    assert.ok(manifest.operations.length > 0);
    for (const operation of manifest.operations) assert.equal(operation.id, sha256Hex(operation.body), operation.name);
  });

  it('refuses operations that do not validate, are unnamed, several per file or named twice', async () => {
    const supergraph = await readFile(supergraphFile, 'utf8');
    const { problems } = buildPersistedQueryManifest(
      [
        { name: 'a.graphql', text: 'query A { accounts { id noSuchField } }' },
        { name: 'b.graphql', text: '{ accounts { id } }' },
        { name: 'c.graphql', text: 'query C { accounts { id } } query D { accounts { id } }' },
        { name: 'd.graphql', text: 'query A { accounts { id } }' },
        { name: 'e.graphql', text: 'query E { accounts { ' },
      ],
      supergraph,
    );
    assert.deepEqual(
      problems.map((problem) => problem.split(':')[0]),
      ['a.graphql', 'b.graphql', 'c.graphql', 'd.graphql', 'e.graphql'],
    );
    assert.match(problems[0] ?? '', /noSuchField/);
    assert.match(problems[3] ?? '', /operation A twice/);
  });

  it('gives the same id whatever the spacing of the file', async () => {
    const supergraph = await readFile(supergraphFile, 'utf8');
    const ids = ['query A { accounts { id } }', 'query A {\n  accounts {\n    id\n  }\n}\n'].map(
      (text) => buildPersistedQueryManifest([{ name: 'a.graphql', text }], supergraph).manifest.operations[0]?.id,
    );
    assert.equal(ids[0], ids[1]);
  });
});
