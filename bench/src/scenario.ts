import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

/** One subgraph of a benchmark graph: its SDL (our access directives included) and resolvers. */
export interface BenchSubgraph {
  readonly name: string;
  /** The subgraph's own SDL; the access directives are prepended, as our subgraphs do. */
  readonly sdl: string;
  readonly resolvers: GraphQLResolverMap<unknown>;
}

/**
 * What one benchmark measures: a graph, the one operation every connection sends, and the answer it
 * must get. A scenario module exports one of these and is listed in `scenarios/index.ts`; the runner
 * does the rest (composition, trusted documents, field policies, gateways, load, report).
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly subgraphs: readonly BenchSubgraph[];
  /** The operation's name and text; it is also the trusted document API keys run by id. */
  readonly operation: { readonly name: string; readonly body: string };
  /** The `data` every response must carry, computed independently of any gateway. */
  expectedData(): Promise<unknown>;
}
