import { readFile } from 'node:fs/promises';
import { Kind, parse } from 'graphql';
import { StartupError } from '@numezis/runtime/server/run';

export interface SubgraphEndpoint {
  readonly name: string;
  readonly url: string;
}

export interface Supergraph {
  readonly sdl: string;
  readonly subgraphs: readonly SubgraphEndpoint[];
}

/**
 * Reads a supergraph file and lists its subgraphs (the `join__Graph` enum), applying URL overrides.
 * Any supergraph composed by Apollo composition works, not only ours.
 */
export async function loadSupergraph(
  path: string,
  urlOverrides: Readonly<Record<string, string>>,
): Promise<Supergraph> {
  let sdl: string;
  try {
    sdl = await readFile(path, 'utf8');
  } catch {
    throw new StartupError(`cannot read the supergraph at ${path} (set GATEWAY_SUPERGRAPH_PATH)`);
  }
  const subgraphs: SubgraphEndpoint[] = [];
  let document;
  try {
    document = parse(sdl);
  } catch (error) {
    throw new StartupError(`the supergraph at ${path} is not valid GraphQL: ${(error as Error).message}`);
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const directive = value.directives?.find((candidate) => candidate.name.value === 'join__graph');
      const argument = (name: string) => {
        const node = directive?.arguments?.find((candidate) => candidate.name.value === name)?.value;
        return node?.kind === Kind.STRING ? node.value : undefined;
      };
      const name = argument('name');
      const url = argument('url');
      if (name !== undefined && url !== undefined)
        subgraphs.push({ name, url: urlOverrides[name.toLowerCase()] ?? url });
    }
  }
  if (subgraphs.length === 0) throw new StartupError(`the supergraph at ${path} names no subgraphs`);
  for (const name of Object.keys(urlOverrides)) {
    if (!subgraphs.some((subgraph) => subgraph.name.toLowerCase() === name)) {
      throw new StartupError(`GATEWAY_SUBGRAPH_URL_${name.toUpperCase()} names no subgraph of the supergraph`);
    }
  }
  return { sdl, subgraphs };
}
