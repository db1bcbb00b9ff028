import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/reader.ts';

/** A start-up failure whose message is complete and fit for one line on the console. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function listen(app: FastifyInstance, host: string, port: number, portSetting: string): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${port} on ${host} is already in use (set ${portSetting})`);
    if (code === 'EACCES') throw new StartupError(`no permission to listen on port ${port} (set ${portSetting})`);
    if (code === 'EADDRNOTAVAIL') throw new StartupError(`address ${host} is not available here`);
    throw error;
  }
}

/**
 * Runs a service's start function, turning any start-up failure into one line on stderr and exit
 * code 1, and stops cleanly on SIGINT/SIGTERM: stop accepting, finish in-flight requests, release
 * resources, exit. A second signal or the timeout forces the exit.
 */
export async function runService(
  service: string,
  start: () => Promise<{ close(): Promise<void> }>,
  shutdownTimeoutMs: () => number = () => 10_000,
): Promise<void> {
  let running: { close(): Promise<void> };
  try {
    running = await start();
  } catch (error) {
    process.stderr.write(`${service}: cannot start: ${describeStartupError(error)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`${service}: shutdown took longer than ${shutdownTimeoutMs()} ms, exiting\n`);
      process.exit(1);
    }, shutdownTimeoutMs());
    force.unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${service}: error during shutdown after ${signal}: ${describeStartupError(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export function describeStartupError(error: unknown): string {
  if (error instanceof ConfigError) return error.problems.join('; ');
  if (error instanceof StartupError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
    return `cannot reach the database (${(error as Error).message}); check the *_DATABASE_URL settings`;
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
