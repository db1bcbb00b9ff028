import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { generateContextKeyPair } from '../context/signed-context.ts';
import { databaseEnv } from '../db/database.ts';
import { auditIngestPath } from '../config/audit-ingest.ts';
import type { DatabaseSettings } from '../db/database.ts';

export const subgraphNames = ['identity', 'accounting', 'documents', 'audit'] as const;
export type SubgraphName = (typeof subgraphNames)[number];
export type ServiceName = SubgraphName | 'gateway';

export const defaultPorts: Readonly<Record<ServiceName, number>> = {
  gateway: 4000,
  identity: 4001,
  accounting: 4002,
  documents: 4003,
  audit: 4004,
};

export interface StackOptions {
  readonly repoRoot: URL;
  readonly ports: Readonly<Record<ServiceName, number>>;
  /** Per subgraph; a subgraph without an entry uses its own defaults (embedded PGlite under .data/). */
  readonly databases?: Partial<Readonly<Record<SubgraphName, DatabaseSettings>>>;
  /** The environment every service inherits (PATH, NODE_ENV, LOG_LEVEL, ...). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Extra settings per service, applied last. */
  readonly serviceEnv?: Partial<Readonly<Record<ServiceName, Readonly<Record<string, string>>>>>;
  /** `inherit` streams the services' output to this process; `capture` keeps it for inspection. */
  readonly output: 'inherit' | 'capture';
  readonly readyTimeoutMs?: number;
}

export interface RunningStack {
  readonly gatewayUrl: string;
  readonly ports: Readonly<Record<ServiceName, number>>;
  /** The captured log lines of a service (output: 'capture'), newest last. */
  logs(service: ServiceName): readonly string[];
  /**
   * The first captured line of `service` that `matches`, now or when it arrives: a service may answer
   * a request before its log line for it has crossed the pipe. Rejects after `timeoutMs`.
   */
  waitForLog(service: ServiceName, matches: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /**
   * Stops a service gracefully (SIGTERM) and resolves with its exit code (0 when it stopped cleanly);
   * with SIGKILL it dies as in a crash, with requests and transactions in flight.
   */
  stop(service: ServiceName, signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /**
   * Starts a stopped service again and waits until it is ready; `env` adds to its settings (a test
   * that moves the clocks with NUMEZIS_CLOCK_OFFSET_MS, say).
   */
  start(service: ServiceName, env?: Readonly<Record<string, string>>): Promise<void>;
  close(): Promise<void>;
}

export class ServiceStartError extends Error {
  readonly service: ServiceName;
  constructor(service: ServiceName, message: string) {
    super(`${service}: ${message}`);
    this.name = 'ServiceStartError';
    this.service = service;
  }
}

const maxCapturedLines = 2_000;

/**
 * Starts the four subgraphs and the gateway as separate processes, exactly as they run in
 * production, with a fresh context-signing key pair shared between them, and waits until each is
 * ready. Used by `npm start` and by the end-to-end tests.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const keys = generateContextKeyPair(`dev${Date.now().toString(36)}`);
  // What the services share for the audit trail: the relays' ingest token and the checkpoint key.
  const ingestToken = randomBytes(32).toString('base64url');
  const checkpointKey = generateContextKeyPair(`cp${Date.now().toString(36)}`).signingKey;
  const processes = new Map<ServiceName, ChildProcess>();
  const logs = new Map<ServiceName, string[]>();
  const logEvents = new EventEmitter();
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;

  const envFor = (service: ServiceName): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.baseEnv)) if (value !== undefined) env[name] = value;
    const prefix = service.toUpperCase();
    env[`${prefix}_PORT`] = String(options.ports[service]);
    env.CONTEXT_VERIFY_KEYS ??= keys.verifyKey;
    env.AUDIT_INGEST_TOKEN ??= ingestToken;
    if (service === 'audit') env.AUDIT_CHECKPOINT_SIGNING_KEY ??= checkpointKey;
    else env.AUDIT_INGEST_URL = `http://127.0.0.1:${options.ports.audit}${auditIngestPath}`;
    if (service === 'gateway') {
      env.CONTEXT_SIGNING_KEY ??= keys.signingKey;
      for (const subgraph of subgraphNames) {
        env[`GATEWAY_SUBGRAPH_URL_${subgraph.toUpperCase()}`] = `http://127.0.0.1:${options.ports[subgraph]}/graphql`;
      }
    } else {
      const database = options.databases?.[service];
      if (database !== undefined) Object.assign(env, databaseEnv(prefix, database));
    }
    return { ...env, ...options.serviceEnv?.[service] };
  };

  const entryOf = (service: ServiceName) =>
    fileURLToPath(
      new URL(service === 'gateway' ? 'gateway/src/main.ts' : `subgraphs/${service}/src/main.ts`, options.repoRoot),
    );

  const launch = async (service: ServiceName, extraEnv: Readonly<Record<string, string>> = {}): Promise<void> => {
    const child = spawn(process.execPath, [entryOf(service)], {
      env: { ...envFor(service), ...extraEnv },
      stdio: ['ignore', options.output === 'inherit' ? 'inherit' : 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches only the launcher, which then stops each
      // service exactly once, gracefully.
      detached: true,
    });
    processes.set(service, child);
    const lines = logs.get(service) ?? [];
    logs.set(service, lines);
    // A chunk can end mid-line: each stream keeps its unfinished line until the rest arrives.
    const lineKeeper = () => {
      let pending = '';
      return (chunk: Buffer) => {
        const parts = (pending + chunk.toString('utf8')).split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) {
          if (line === '') continue;
          lines.push(line);
          if (lines.length > maxCapturedLines) lines.shift();
          logEvents.emit(service, line);
        }
      };
    };
    const keep = lineKeeper();
    child.stdout?.on('data', keep);
    // Until the service is ready its stderr is only kept: a failed start is reported once, by the
    // caller, in one line.
    let ready = false;
    const keepError = lineKeeper();
    child.stderr?.on('data', (chunk: Buffer) => {
      keepError(chunk);
      if (ready && options.output === 'inherit') process.stderr.write(chunk);
    });
    const exited = once(child, 'exit').then(() => {
      const last = lines.filter((line) => !line.startsWith('(node:') && !line.startsWith('(Use')).at(-1);
      throw new ServiceStartError(
        service,
        last?.replace(/^\w+: /, '') ?? `exited with code ${child.exitCode ?? 'unknown'}`,
      );
    });
    exited.catch(() => undefined);
    await Promise.race([exited, waitUntilReady(service, options.ports[service], readyTimeoutMs)]);
    ready = true;
  };

  const stop = async (service: ServiceName, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> => {
    const child = processes.get(service);
    processes.delete(service);
    if (child === undefined) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
  };

  const close = async () => {
    await stop('gateway');
    await Promise.all(subgraphNames.map((service) => stop(service)));
  };
  // Last resort if the launcher itself dies: leave no service behind holding its port.
  const killAll = () => {
    for (const child of processes.values()) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  try {
    await Promise.all(subgraphNames.map((service) => launch(service)));
    await launch('gateway');
  } catch (error) {
    await close();
    throw error;
  }

  return {
    gatewayUrl: `http://127.0.0.1:${options.ports.gateway}/graphql`,
    ports: options.ports,
    logs: (service) => logs.get(service) ?? [],
    waitForLog: (service, matches, timeoutMs = 5_000) => {
      const seen = logs.get(service)?.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onLine = (line: string) => {
          if (!matches(line)) return;
          clearTimeout(timer);
          logEvents.off(service, onLine);
          resolve(line);
        };
        const timer = setTimeout(() => {
          logEvents.off(service, onLine);
          reject(new Error(`${service} logged no matching line within ${timeoutMs} ms`));
        }, timeoutMs);
        logEvents.on(service, onLine);
      });
    },
    stop,
    start: launch,
    async close() {
      await close();
      process.off('exit', killAll);
    },
  };
}

async function waitUntilReady(service: ServiceName, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A readiness probe, not a test sleep: poll /health until the service says it can serve.
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new ServiceStartError(service, `not ready after ${timeoutMs} ms on port ${port}`);
}
