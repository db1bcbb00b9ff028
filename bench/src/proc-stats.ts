import { readFileSync } from 'node:fs';

// Linux reports CPU time in clock ticks; 100 per second on every architecture Node runs on here.
const ticksPerSecond = 100;

/** CPU time (user + system, all threads) a process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond;
}

/** Resident memory now and its peak over the process's life (VmHWM), in MB. */
export function memoryMb(pid: number): { readonly rss: number; readonly peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Busy and total ticks of each CPU, to tell whether the load generator's core was saturated. */
export function cpuTicks(): ReadonlyMap<string, { readonly busy: number; readonly total: number }> {
  const ticks = new Map<string, { busy: number; total: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const values = (match[2] ?? '').split(/\s+/).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the 4th and 5th values.
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    ticks.set(match[1] ?? '', { busy: total - idle, total });
  }
  return ticks;
}

/** Percent busy of each CPU between two cpuTicks() readings. */
export function busyPercent(
  before: ReturnType<typeof cpuTicks>,
  after: ReturnType<typeof cpuTicks>,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [cpu, end] of after) {
    const start = before.get(cpu);
    if (start === undefined || end.total === start.total) continue;
    result[cpu] = (100 * (end.busy - start.busy)) / (end.total - start.total);
  }
  return result;
}

/**
 * Samples a process's resident memory every `intervalMs` (200 ms by default) and keeps the highest
 * value seen while it runs.
 */
export function sampleMemory(pid: number, intervalMs = 200): { stop(): { readonly maxRss: number } } {
  let maxRss = 0;
  const timer = setInterval(() => {
    try {
      maxRss = Math.max(maxRss, memoryMb(pid).rss);
    } catch {
      // the process ended; the last sample stands
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { maxRss };
    },
  };
}
