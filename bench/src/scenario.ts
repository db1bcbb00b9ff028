import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { TargetCheck } from './report.ts';

/** One subgraph of a benchmark graph: its SDL (our access directives included) and resolvers. */
export interface BenchSubgraph {
  readonly name: string;
  /** The subgraph's own SDL; the access directives are prepended, as our subgraphs do. */
  readonly sdl: string;
  readonly resolvers: GraphQLResolverMap<unknown>;
}

/**
 * What one gateway benchmark measures: a graph, the one operation every connection sends, and the
 * answer it must get. A scenario module exports one of these and is listed in `scenarios/index.ts`;
 * the runner does the rest (composition, trusted documents, field policies, gateways, load, report).
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

/** What a service scenario measured: its own table and its targets, printed like the gateways'. */
export interface ServiceScenarioReport {
  readonly table: string;
  readonly checks: readonly TargetCheck[];
}

/** Where and how long a service scenario runs. */
export interface ServiceScenarioSettings {
  /** `--quick`: seconds instead of minutes, for development. */
  readonly quick: boolean;
  /** The environment the bench was started with: DATABASE_URL picks PostgreSQL over PGlite. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The core the service under test runs on, alone; the load generator stays on `loadCpu`. */
  readonly serviceCpu: number;
  readonly loadCpu: number;
  readonly log: (line: string) => void;
}

/**
 * A scenario that measures one of our own services directly, with no gateway in front (a mutation's
 * own cost, say). It starts what it needs, drives it, and reports its rows and targets. A scenario
 * module exports one of these and is listed in `scenarios/index.ts`.
 */
export interface ServiceScenario {
  readonly name: string;
  readonly description: string;
  run(settings: ServiceScenarioSettings): Promise<ServiceScenarioReport>;
}
