import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { buildASTSchema, parse } from 'graphql';
import { operationAccess } from '@numezis/runtime';
import { supergraphFile } from './subgraphs.ts';

describe('operation policy', () => {
  it('names an access decision for exactly the root fields the supergraph has', async () => {
    const schema = buildASTSchema(parse(await readFile(supergraphFile, 'utf8')), { assumeValidSDL: true });
    const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap(
      (type) =>
        type === null || type === undefined
          ? []
          : Object.keys(type.getFields()).map((field) => `${type.name}.${field}`),
    );
    // Federation's own entry points are not client operations: the gateway never exposes them.
    const operations = rootFields.filter((name) => !['Query._entities', 'Query._service'].includes(name));
    assert.deepEqual(operations.sort(), Object.keys(operationAccess).sort());
  });
});
