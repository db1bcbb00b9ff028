import { readFileSync } from 'node:fs';
import { persistedQueryManifestFile } from '@numezis/schema';
import type { PersistedQueryManifest } from '@numezis/schema';
import { send } from './client.ts';
import type { GraphQLResult } from './client.ts';

const manifest = JSON.parse(readFileSync(persistedQueryManifestFile, 'utf8')) as PersistedQueryManifest;

/** The id of a trusted document (schema/persisted-operations/<name>.graphql), as a partner sends it. */
export function trustedDocumentId(name: string): string {
  const operation = manifest.operations.find((candidate) => candidate.name === name);
  if (operation === undefined) throw new Error(`no trusted document named ${name}`);
  return operation.id;
}

/** The text of a trusted document, as a partner's graphql-ws client sends it (the protocol needs the query). */
export function trustedDocumentBody(name: string): string {
  const operation = manifest.operations.find((candidate) => candidate.name === name);
  if (operation === undefined) throw new Error(`no trusted document named ${name}`);
  return operation.body;
}

/** Runs a trusted document by id, as a partner integration does. */
export function runTrustedDocument<Data = Record<string, unknown>>(
  url: string,
  name: string,
  options: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLResult<Data>> {
  return send<Data>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({
      variables: options.variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: trustedDocumentId(name) } },
    }),
  });
}
