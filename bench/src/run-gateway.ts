import { isDeepStrictEqual } from 'node:util';
import type { GatewayUnderTest } from './gateways/index.ts';
import { drive } from './load.ts';
import { startPinned } from './pinned-process.ts';
import type { PinnedProcess } from './pinned-process.ts';
import { busyPercent, cpuMs, cpuTicks, memoryMb, sampleMemory } from './proc-stats.ts';
import { startSubgraphs } from './subgraphs-process.ts';
import type { SubgraphCounts } from './subgraphs-process.ts';

export interface Durations {
  readonly warmupS: number;
  readonly measureS: number;
}

export interface PhaseResult {
  readonly connections: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Gateway CPU time (user + system) per answered request. */
  readonly cpuMsPerRequest: number;
  readonly failures: number;
  readonly requests: number;
  /** How busy each core was: cpu0 (load generator and subgraphs) should not be the bottleneck. */
  readonly busy: Readonly<Record<string, number>>;
}

export interface GatewayRun {
  readonly key: GatewayUnderTest['key'];
  readonly label: string;
  readonly phases: readonly PhaseResult[];
  /** The gateway's peak resident memory over its whole life (VmHWM), in MB. */
  readonly peakRssMb: number;
  /** Subgraph requests one client request caused. */
  readonly fanOut: number;
  readonly responseBytes: number;
}

export interface RunSettings {
  readonly scenario: string;
  readonly expectedData: unknown;
  readonly gatewayPort: number;
  readonly subgraphPorts: Readonly<Record<string, number>>;
  readonly verifyKey: string;
  readonly durations: Durations;
  readonly connections: readonly number[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly gatewayCpu: number;
  readonly loadCpu: number;
  readonly log: (line: string) => void;
  /** Extra node flags for the gateway, such as --cpu-prof. */
  readonly nodeOptions?: readonly string[];
}

export interface LaunchedGateway {
  readonly process: PinnedProcess;
  readonly load: {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
    readonly expectedBody: string;
  };
  readonly fanOut: number;
  /** Subgraph requests refused for want of a valid signed context, so far. */
  refused(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the subgraphs and the gateway, and checks the gateway's first answer against the oracle. */
export async function launchGateway(gateway: GatewayUnderTest, settings: RunSettings): Promise<LaunchedGateway> {
  const subgraphs = await startSubgraphs({
    cpu: settings.loadCpu,
    scenario: settings.scenario,
    ports: settings.subgraphPorts,
    verifyKeys: gateway.signsContext ? settings.verifyKey : null,
    env: settings.env,
  });
  let process: PinnedProcess | undefined;
  try {
    process = startPinned({
      cpu: settings.gatewayCpu,
      script: gateway.script,
      args: gateway.args,
      env: gateway.env,
      ...(settings.nodeOptions === undefined ? {} : { nodeOptions: settings.nodeOptions }),
    });
    const url = `http://127.0.0.1:${settings.gatewayPort}/graphql`;
    const before = await subgraphs.counts();
    const expectedBody = await firstAnswer(url, gateway, settings.expectedData, process);
    const fanOut = answered(await subgraphs.counts()) - answered(before);
    const started = process;
    return {
      process: started,
      load: { url, headers: gateway.headers, body: gateway.body, expectedBody },
      fanOut,
      refused: async () => Object.values(await subgraphs.counts()).reduce((sum, count) => sum + count.refused, 0),
      async stop() {
        await started.stop();
        await subgraphs.stop();
      },
    };
  } catch (error) {
    await process?.stop();
    await subgraphs.stop();
    throw error;
  }
}

/** One gateway from start to stop: subgraphs, a checked first answer, warm-up, then each measured phase. */
export async function runGateway(gateway: GatewayUnderTest, settings: RunSettings): Promise<GatewayRun> {
  const launched = await launchGateway(gateway, settings);
  try {
    const { process, load } = launched;
    settings.log(`  ${gateway.label}: warm-up ${settings.durations.warmupS} s`);
    await drive({ ...load, connections: settings.connections[0] ?? 50, durationS: settings.durations.warmupS });

    const phases: PhaseResult[] = [];
    for (const connections of settings.connections) {
      const sampler = sampleMemory(process.pid);
      const cpuBefore = cpuMs(process.pid);
      const ticksBefore = cpuTicks();
      const result = await drive({ ...load, connections, durationS: settings.durations.measureS });
      const cpu = cpuMs(process.pid) - cpuBefore;
      const busy = busyPercent(ticksBefore, cpuTicks());
      sampler.stop();
      const phase: PhaseResult = {
        connections,
        rps: result.rps,
        p50: result.p50,
        p99: result.p99,
        cpuMsPerRequest: result.requests === 0 ? NaN : cpu / result.requests,
        failures: result.failures,
        requests: result.requests,
        busy,
      };
      phases.push(phase);
      settings.log(
        `  ${gateway.label}: c${connections} ${phase.rps.toFixed(1)} req/s, p50 ${phase.p50} ms, p99 ${phase.p99} ms, ` +
          `${phase.cpuMsPerRequest.toFixed(2)} CPU ms/req, failures ${phase.failures}, ` +
          `cpu0 ${busy.cpu0?.toFixed(0)}% cpu1 ${busy.cpu1?.toFixed(0)}%`,
      );
    }
    const refused = await launched.refused();
    if (refused > 0)
      throw new Error(`${gateway.label}: the subgraphs refused ${refused} requests without a valid context`);
    return {
      key: gateway.key,
      label: gateway.label,
      phases,
      peakRssMb: memoryMb(process.pid).peak,
      fanOut: launched.fanOut,
      responseBytes: Buffer.byteLength(load.expectedBody),
    };
  } finally {
    await launched.stop();
  }
}

const answered = (counts: SubgraphCounts) => Object.values(counts).reduce((sum, count) => sum + count.answered, 0);

/**
 * Waits until the gateway answers, then checks its answer against the oracle's data: the exact body
 * it sent becomes what every later response must be.
 */
async function firstAnswer(
  url: string,
  gateway: GatewayUnderTest,
  expectedData: unknown,
  process: PinnedProcess,
): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (process.child.exitCode !== null) throw new Error(`${gateway.label} exited:\n${process.output()}`);
    let response: Response | undefined;
    try {
      response = await fetch(url, { method: 'POST', headers: gateway.headers, body: gateway.body });
    } catch {
      if (Date.now() > deadline) throw new Error(`${gateway.label} did not start:\n${process.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const text = await response.text();
    if (response.status !== 200 || !isDeepStrictEqual(JSON.parse(text), { data: expectedData })) {
      throw new Error(`${gateway.label} answered ${response.status} with an unexpected body: ${text.slice(0, 500)}`);
    }
    return text;
  }
}
