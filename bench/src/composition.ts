import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { extractFieldPolicies, sha256Hex, withAccessDirectives } from '@numezis/schema';
import type { Scenario } from './scenario.ts';

/** The files every gateway of a run is started on. */
export interface ComposedGraph {
  readonly supergraphPath: string;
  /** The field-to-policy registry derived from the subgraphs' access directives. */
  readonly fieldPolicyPath: string;
  /** The scenario's operation as the one trusted document. */
  readonly manifestPath: string;
  readonly operationId: string;
}

/**
 * Composes the scenario's subgraphs (listening at `urls`) with Apollo composition, as `npm run
 * compose` does ours, and derives the registry and the trusted-document manifest the same way.
 */
export async function composeScenario(
  scenario: Scenario,
  urls: Readonly<Record<string, string>>,
  dir: string,
): Promise<ComposedGraph> {
  const sdls = scenario.subgraphs.map((subgraph) => ({ name: subgraph.name, sdl: withAccessDirectives(subgraph.sdl) }));
  const composition = composeServices(
    sdls.map(({ name, sdl }) => ({ name, url: urls[name] ?? '', typeDefs: parse(sdl) })),
  );
  if (composition.errors !== undefined) {
    throw new Error(`composition failed: ${composition.errors.map((error) => error.message).join('; ')}`);
  }
  const { policies, violations } = extractFieldPolicies(sdls);
  if (violations.length > 0) throw new Error(`access directives: ${violations.join('; ')}`);

  const operationId = sha256Hex(scenario.operation.body);
  const manifest = {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [{ id: operationId, name: scenario.operation.name, type: 'query', body: scenario.operation.body }],
  };
  const graph: ComposedGraph = {
    supergraphPath: join(dir, 'supergraph.graphql'),
    fieldPolicyPath: join(dir, 'field-policy.json'),
    manifestPath: join(dir, 'persisted-query-manifest.json'),
    operationId,
  };
  await writeFile(graph.supergraphPath, composition.supergraphSdl);
  await writeFile(graph.fieldPolicyPath, JSON.stringify(policies, null, 2));
  await writeFile(graph.manifestPath, JSON.stringify(manifest, null, 2));
  return graph;
}
