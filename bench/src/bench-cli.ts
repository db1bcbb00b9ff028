// `npm run bench`: our gateway against vanilla Apollo Gateway, then what our own mutation path's
// audit outbox and encryption cost, in one run on this machine.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateContextKeyPair } from '@numezis/runtime';
import { composeScenario } from './composition.ts';
import { gatewaysUnderTest } from './gateways/index.ts';
import { startIdentityWithApiKey } from './identity-service.ts';
import type { IdentityService } from './identity-service.ts';
import { parseOptions, usage } from './options.ts';
import { freePorts } from './ports.ts';
import { checkTargets, renderTable, renderTargets, summarize } from './report.ts';
import { runGateway } from './run-gateway.ts';
import type { GatewayRun, RunSettings } from './run-gateway.ts';
import type { Scenario, ServiceScenario } from './scenario.ts';
import { scenariosToRun } from './scenarios/index.ts';
import { soak } from './soak.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

if (process.argv.includes('--help')) {
  log(usage);
  process.exit(0);
}
const options = parseOptions(process.argv.slice(2));
if (cpus().length < 2) throw new Error('the benchmark needs two cores: one for the gateway, one for everything else');

// Core 0: this process (the load generator), the subgraphs and identity, which inherit it. Core 1:
// the gateway (or a service scenario's service) under test, alone.
const loadCpu = 0;
const gatewayCpu = 1;
execFileSync('taskset', ['-a', '-cp', String(loadCpu), String(process.pid)], { stdio: 'ignore' });

const started = Date.now();
const load = loadavg()[0] ?? 0;
log(`numezis bench: ${new Date().toISOString()}`);
log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
log(
  `load average before start: ${load.toFixed(2)}${load > 0.5 ? ' (something else is running: figures may be disturbed)' : ''}`,
);

/** A gateway scenario: every gateway under test on the scenario's graph, or the soak. */
async function benchGateways(scenario: Scenario): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'numezis-bench-graph-'));
  const keys = generateContextKeyPair('bench');
  const [gatewayPort = 0, ...subgraphPortList] = await freePorts(1 + scenario.subgraphs.length);
  const subgraphPorts = Object.fromEntries(
    scenario.subgraphs.map((subgraph, index) => [subgraph.name, subgraphPortList[index] ?? 0]),
  );
  const subgraphUrls = Object.fromEntries(
    Object.entries(subgraphPorts).map(([name, port]) => [name, `http://127.0.0.1:${port}/graphql`]),
  );
  const graph = await composeScenario(scenario, subgraphUrls, dir);
  const expectedData = await scenario.expectedData();
  const wanted = (key: string) => options.only === null || (options.only as readonly string[]).includes(key);

  let identity: IdentityService | null = null;
  try {
    if (wanted('ours-on')) {
      log('starting the real stack once to mint an API key; identity keeps running for the secured gateway...');
      identity = await startIdentityWithApiKey({
        env: process.env,
        signingKey: keys.signingKey,
        verifyKey: keys.verifyKey,
      });
    }
    const gateways = gatewaysUnderTest({
      graph,
      operation: scenario.operation,
      port: gatewayPort,
      subgraphUrls,
      signingKey: keys.signingKey,
      // Its own database number: the benchmark's counters never meet the test suites' keys.
      redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13',
      identity,
      path: process.env.PATH,
    }).filter((gateway) => wanted(gateway.key));
    const settings: RunSettings = {
      scenario: scenario.name,
      expectedData,
      gatewayPort,
      subgraphPorts,
      verifyKey: keys.verifyKey,
      durations: { warmupS: options.warmupS, measureS: options.measureS },
      connections: options.connections,
      env: { PATH: process.env.PATH },
      gatewayCpu,
      loadCpu,
      log,
      ...(options.cpuProfileDir === null
        ? {}
        : { nodeOptions: ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] }),
    };

    if (options.soakS !== null) {
      const gateway = gateways.find((candidate) => candidate.key === 'ours-on') ?? gateways[0];
      if (gateway === undefined) throw new Error('no gateway to soak');
      // Memory settles only once the heap has grown to its working size: the soak warms up longer.
      const warmupS = Math.max(30, options.warmupS);
      log(`\nsoak: ${gateway.label}, ${options.soakS} s after a ${warmupS} s warm-up`);
      const result = await soak(gateway, { ...settings, durations: { ...settings.durations, warmupS } }, options.soakS);
      const met = result.maxDeviationPercent <= 10;
      log(
        `\nsoak result: ${result.rps.toFixed(1)} req/s, ${result.failures} failures; RSS after warm-up ${result.baselineMb.toFixed(1)} MB, largest deviation ${result.maxDeviationPercent.toFixed(1)} %`,
      );
      log(
        `${met ? 'met    ' : 'NOT MET'}  memory within +-10 % after warm-up${met ? '' : `: gap ${(result.maxDeviationPercent - 10).toFixed(1)} points`}`,
      );
    } else {
      log(`\n${scenario.name}: ${scenario.description}`);
      log(
        `${options.rounds} round(s); each gateway alone on core ${gatewayCpu}; warm-up ${options.warmupS} s, then ${options.measureS} s at ${options.connections.map((count) => `c${count}`).join(' and ')}`,
      );
      const runs: GatewayRun[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        log(`round ${round}`);
        for (const gateway of gateways) runs.push(await runGateway(gateway, settings));
      }
      const first = runs[0];
      log(
        `\nanswer: ${first?.responseBytes ?? 0} bytes, ${first?.fanOut ?? 0} subgraph requests per client request; every response checked`,
      );
      const rows = summarize(runs);
      log('');
      log(renderTable(rows));
      log('');
      log(renderTargets(checkTargets(rows)));
    }
  } finally {
    await identity?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A service scenario: it runs itself and hands back its table and targets. */
async function benchService(scenario: ServiceScenario): Promise<void> {
  log(`\n${scenario.name}: ${scenario.description}`);
  const result = await scenario.run({ quick: options.quick, env: process.env, serviceCpu: gatewayCpu, loadCpu, log });
  log('');
  log(result.table);
  log('');
  log(renderTargets(result.checks));
}

const selected = scenariosToRun(options.scenario);
if (options.soakS !== null && selected.gateway === null) throw new Error('--soak needs a gateway scenario');
if (selected.gateway !== null) await benchGateways(selected.gateway);
// A soak is about the gateway's memory alone.
if (options.soakS === null) for (const scenario of selected.services) await benchService(scenario);
log(`\ndone in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
