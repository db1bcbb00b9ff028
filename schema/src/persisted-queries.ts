import { createHash } from 'node:crypto';
import { buildASTSchema, Kind, parse, print, validate } from 'graphql';
import type { OperationDefinitionNode } from 'graphql';

/**
 * The trusted documents partners may run: one operation per file in `schema/persisted-operations/`,
 * published as an Apollo persisted query manifest whose ids are the SHA-256 of each printed body,
 * so standard client tooling (Apollo's generate-persisted-query-manifest, or any SHA-256) produces
 * the same ids a partner sends.
 */
export interface PersistedQueryManifest {
  readonly format: 'apollo-persisted-query-manifest';
  readonly version: 1;
  readonly operations: readonly PersistedOperation[];
}

export interface PersistedOperation {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly body: string;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The manifest for these operation files, checked against the supergraph: each file holds one
 * named operation (fragments beside it are fine) that validates, and no two share a name.
 */
export function buildPersistedQueryManifest(
  files: readonly { readonly name: string; readonly text: string }[],
  supergraphSdl: string,
): { readonly manifest: PersistedQueryManifest; readonly problems: readonly string[] } {
  const schema = buildASTSchema(parse(supergraphSdl));
  const problems: string[] = [];
  const operations: PersistedOperation[] = [];
  for (const file of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    let document;
    try {
      document = parse(file.text);
    } catch (error) {
      problems.push(`${file.name}: ${(error as Error).message}`);
      continue;
    }
    const definitions = document.definitions.filter(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    );
    const [operation] = definitions;
    if (definitions.length !== 1 || operation === undefined) {
      problems.push(`${file.name}: must hold exactly one operation, found ${definitions.length}`);
      continue;
    }
    const name = operation.name?.value;
    if (name === undefined) {
      problems.push(`${file.name}: the operation needs a name`);
      continue;
    }
    for (const error of validate(schema, document)) problems.push(`${file.name}: ${error.message}`);
    if (operations.some((other) => other.name === name)) problems.push(`${file.name}: operation ${name} twice`);
    const body = print(document);
    operations.push({ id: sha256Hex(body), name, type: operation.operation, body });
  }
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations }, problems };
}

export function renderManifest(manifest: PersistedQueryManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
