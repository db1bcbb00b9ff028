// Child process: the scenario's subgraphs, each on its own port, until stdin closes or SIGTERM.
import { parseVerifyKeys } from '@numezis/runtime';
import { scenarioNamed } from './scenarios/index.ts';
import { startBenchSubgraph } from './subgraph-server.ts';
import type { BenchSubgraphServer } from './subgraph-server.ts';

interface SubgraphsSettings {
  readonly scenario: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly verifyKeys: string | null;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as SubgraphsSettings;
const scenario = scenarioNamed(settings.scenario);
const verifyKeys = settings.verifyKeys === null ? null : parseVerifyKeys(settings.verifyKeys);
const servers = new Map<string, BenchSubgraphServer>();
for (const subgraph of scenario.subgraphs) {
  const port = settings.ports[subgraph.name];
  if (port === undefined) throw new Error(`no port for subgraph ${subgraph.name}`);
  servers.set(subgraph.name, await startBenchSubgraph(subgraph, { port, verifyKeys }));
}

// The parent asks for the counts over IPC, to learn a query's fan-out and any refused request.
process.on('message', (message) => {
  if (message !== 'counts') return;
  process.send?.(Object.fromEntries([...servers].map(([name, server]) => [name, server.counts()])));
});
process.on('SIGTERM', () => {
  for (const { server } of servers.values()) server.close();
  process.exit(0);
});
process.send?.('ready');
