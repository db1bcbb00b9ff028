import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { DocumentNode } from 'graphql';

/**
 * One real subgraph that is not ours (no signature check, nothing of our domain), composed into a
 * supergraph file for a gateway under test, counting the requests that reach it: a refusal at the
 * gateway must leave the count unchanged.
 */
export interface ForeignGraph {
  readonly supergraphPath: string;
  /** A folder for the test's other files, removed by `stop`. */
  readonly dir: string;
  subgraphRequests(): number;
  stop(): Promise<void>;
}

export async function startForeignGraph(options: {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  readonly resolvers: GraphQLResolverMap<unknown>;
}): Promise<ForeignGraph> {
  let requests = 0;
  const subgraph = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers }),
    plugins: [{ requestDidStart: async () => void requests++ }],
  });
  const { url } = await startStandaloneServer(subgraph, { listen: { host: '127.0.0.1', port: 0 } });
  const composition = composeServices([{ name: options.name, url, typeDefs: options.typeDefs }]);
  assert.equal(composition.errors, undefined);
  const dir = await mkdtemp(join(tmpdir(), 'foreign-graph-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(supergraphPath, composition.supergraphSdl ?? '');
  return {
    supergraphPath,
    dir,
    subgraphRequests: () => requests,
    async stop() {
      await subgraph.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
