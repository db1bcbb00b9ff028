import { readdir, readFile, writeFile } from 'node:fs/promises';
import { composeSupergraph, readSubgraphSdl } from './compose.ts';
import { extractFieldPolicies, renderFieldPolicyModule } from './field-policy.ts';
import { buildPersistedQueryManifest, renderManifest } from './persisted-queries.ts';
import {
  fieldPolicyFile,
  persistedOperationsDir,
  persistedQueryManifestFile,
  subgraphSources,
  supergraphFile,
} from './subgraphs.ts';

// `npm run compose` writes schema/supergraph.graphql, the field-to-policy registry and the trusted
// documents' manifest; `npm run compose:check` fails when a committed file is not what the sources
// produce now, when a root field carries no scope decision, or when a trusted document does not
// validate against the supergraph (CI runs it).
const check = process.argv.includes('--check');

async function generated(): Promise<{ file: URL; label: string; content: string }[]> {
  const { policies, violations } = extractFieldPolicies(await Promise.all(subgraphSources.map(readSubgraphSdl)));
  if (violations.length > 0) {
    throw new Error(`access policy: default deny refuses\n${violations.map((line) => `  - ${line}`).join('\n')}`);
  }
  const supergraph = await composeSupergraph(subgraphSources);
  const operationFiles = (await readdir(persistedOperationsDir)).filter((name) => name.endsWith('.graphql'));
  const { manifest, problems } = buildPersistedQueryManifest(
    await Promise.all(
      operationFiles.map(async (name) => ({
        name,
        text: await readFile(new URL(name, persistedOperationsDir), 'utf8'),
      })),
    ),
    supergraph,
  );
  if (problems.length > 0) {
    throw new Error(
      `trusted documents (schema/persisted-operations/)\n${problems.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return [
    { file: supergraphFile, label: 'schema/supergraph.graphql', content: supergraph },
    {
      file: persistedQueryManifestFile,
      label: 'schema/persisted-query-manifest.json',
      content: renderManifest(manifest),
    },
    {
      file: fieldPolicyFile,
      label: 'schema/src/generated/field-policy.ts',
      content: renderFieldPolicyModule(policies),
    },
  ];
}

try {
  let stale = false;
  for (const { file, label, content } of await generated()) {
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed === content) {
      process.stdout.write(`${label} is up to date\n`);
    } else if (check) {
      process.stderr.write(`${label} is stale: run \`npm run compose\` and commit the result\n`);
      stale = true;
    } else {
      await writeFile(file, content);
      process.stdout.write(`wrote ${label}\n`);
    }
  }
  if (stale) process.exit(1);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
