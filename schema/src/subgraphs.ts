/**
 * The subgraphs the supergraph is composed from: each one's SDL file (owned by the subgraph) and the
 * URL it listens on by default. Deployments point the gateway elsewhere with
 * GATEWAY_SUBGRAPH_URL_<NAME>, without recomposing.
 */
export interface SubgraphSource {
  readonly name: string;
  readonly url: string;
  readonly sdlFile: URL;
}

const repoRoot = new URL('../../', import.meta.url);

export const subgraphSources: readonly SubgraphSource[] = [
  {
    name: 'identity',
    url: 'http://127.0.0.1:4001/graphql',
    sdlFile: new URL('subgraphs/identity/schema.graphql', repoRoot),
  },
  {
    name: 'accounting',
    url: 'http://127.0.0.1:4002/graphql',
    sdlFile: new URL('subgraphs/accounting/schema.graphql', repoRoot),
  },
  {
    name: 'documents',
    url: 'http://127.0.0.1:4003/graphql',
    sdlFile: new URL('subgraphs/documents/schema.graphql', repoRoot),
  },
  { name: 'audit', url: 'http://127.0.0.1:4004/graphql', sdlFile: new URL('subgraphs/audit/schema.graphql', repoRoot) },
];

export const supergraphFile = new URL('schema/supergraph.graphql', repoRoot);
export const fieldPolicyFile = new URL('schema/src/generated/field-policy.ts', repoRoot);
export const persistedOperationsDir = new URL('schema/persisted-operations/', repoRoot);
export const persistedQueryManifestFile = new URL('schema/persisted-query-manifest.json', repoRoot);
