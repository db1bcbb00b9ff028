import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface PinnedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines it wrote, for the error message when it fails. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A Node process pinned to one CPU with taskset (which execs node, so the pid is node's own).
 * `ipc` opens a channel for processes that report to the runner.
 */
export function startPinned(options: {
  readonly cpu: number;
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly nodeOptions?: readonly string[];
  readonly ipc?: boolean;
}): PinnedProcess {
  const child = spawn(
    'taskset',
    [
      '-c',
      String(options.cpu),
      process.execPath,
      ...(options.nodeOptions ?? []),
      options.script,
      ...(options.args ?? []),
    ],
    { env: options.env, stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc === true ? ['ipc' as const] : [])] },
  );
  if (child.pid === undefined) throw new Error(`cannot start ${options.script}`);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    pid: child.pid,
    child,
    output: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
