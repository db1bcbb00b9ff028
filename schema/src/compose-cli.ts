import { readFile, writeFile } from 'node:fs/promises';
import { composeSupergraph } from './compose.ts';
import { subgraphSources, supergraphFile } from './subgraphs.ts';

// `npm run compose` writes schema/supergraph.graphql; `npm run compose:check` fails when the
// committed file is not what composition produces now (CI runs it).
const check = process.argv.includes('--check');
try {
  const composed = await composeSupergraph(subgraphSources);
  const committed = await readFile(supergraphFile, 'utf8').catch(() => '');
  if (check) {
    if (committed !== composed) {
      process.stderr.write('schema/supergraph.graphql is stale: run `npm run compose` and commit the result\n');
      process.exit(1);
    }
    process.stdout.write('schema/supergraph.graphql is up to date\n');
  } else if (committed !== composed) {
    await writeFile(supergraphFile, composed);
    process.stdout.write('wrote schema/supergraph.graphql\n');
  } else {
    process.stdout.write('schema/supergraph.graphql unchanged\n');
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
