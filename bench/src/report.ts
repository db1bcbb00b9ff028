import type { GatewayKey } from './gateways/index.ts';
import type { GatewayRun, PhaseResult } from './run-gateway.ts';

/** One gateway's figures at one connection count, the median over rounds (peak memory: the highest). */
export interface Row {
  readonly key: GatewayKey;
  readonly label: string;
  readonly connections: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerRequest: number;
  readonly peakRssMb: number;
  readonly failures: number;
  readonly cpu0Busy: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};

export function summarize(runs: readonly GatewayRun[]): Row[] {
  const rows: Row[] = [];
  const keys = [...new Set(runs.map((run) => run.key))];
  for (const key of keys) {
    const own = runs.filter((run) => run.key === key);
    const connectionCounts = [...new Set(own.flatMap((run) => run.phases.map((phase) => phase.connections)))];
    for (const connections of connectionCounts) {
      const phases = own.flatMap((run) => run.phases.filter((phase) => phase.connections === connections));
      const of = (pick: (phase: PhaseResult) => number) => median(phases.map(pick));
      rows.push({
        key,
        label: own[0]?.label ?? key,
        connections,
        rps: of((phase) => phase.rps),
        p50: of((phase) => phase.p50),
        p99: of((phase) => phase.p99),
        cpuMsPerRequest: of((phase) => phase.cpuMsPerRequest),
        peakRssMb: Math.max(...own.map((run) => run.peakRssMb)),
        failures: phases.reduce((sum, phase) => sum + phase.failures, 0),
        cpu0Busy: of((phase) => phase.busy.cpu0 ?? NaN),
      });
    }
  }
  return rows;
}

const ratio = (value: number, base: number | undefined) =>
  base === undefined || base === 0 ? '-' : `${(value / base).toFixed(2)}x`;

/** The table: absolute figures, then each gateway against vanilla at the same connection count. */
export function renderTable(rows: readonly Row[]): string {
  const header = [
    'gateway',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU ms/req',
    'peak RSS MB',
    'req/s vs vanilla',
    'p99 vs vanilla',
    'RSS vs vanilla',
    'failures',
    'core0 busy',
  ];
  const lines = rows.map((row) => {
    const vanilla = rows.find((candidate) => candidate.key === 'vanilla' && candidate.connections === row.connections);
    return [
      row.label,
      `c${row.connections}`,
      row.rps.toFixed(1),
      row.p50.toFixed(0),
      row.p99.toFixed(0),
      row.cpuMsPerRequest.toFixed(2),
      row.peakRssMb.toFixed(0),
      ratio(row.rps, vanilla?.rps),
      ratio(row.p99, vanilla?.p99),
      ratio(row.peakRssMb, vanilla?.peakRssMb),
      String(row.failures),
      `${row.cpu0Busy.toFixed(0)}%`,
    ];
  });
  return formatTable(header, lines);
}

/** A Markdown table: the first two columns (what and at how many connections) left, figures right. */
export function formatTable(header: readonly string[], lines: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]?.length ?? 0)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  return [render(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(render)].join(
    '\n',
  );
}

export interface TargetCheck {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

/** The issue's targets, at each connection count, with the gap when one is missed. */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const find = (key: GatewayKey, connections: number) =>
    rows.find((row) => row.key === key && row.connections === connections);
  for (const connections of [...new Set(rows.map((row) => row.connections))]) {
    const on = find('ours-on', connections);
    const off = find('ours-off', connections);
    const vanilla = find('vanilla', connections);
    const undici = find('vanilla-undici', connections);
    const at = `c${connections}`;
    if (on !== undefined && vanilla !== undefined) {
      const speedup = on.rps / vanilla.rps;
      checks.push({
        target: `${at}: security on >= 1.5x vanilla req/s`,
        met: speedup >= 1.5,
        detail: `${speedup.toFixed(2)}x${speedup >= 1.5 ? '' : `, gap ${(1.5 * vanilla.rps - on.rps).toFixed(1)} req/s`}`,
      });
      const p99 = on.p99 / vanilla.p99;
      checks.push({
        target: `${at}: security on p99 <= 0.8x vanilla's`,
        met: p99 <= 0.8,
        detail: `${p99.toFixed(2)}x${p99 <= 0.8 ? '' : `, gap ${(on.p99 - 0.8 * vanilla.p99).toFixed(0)} ms`}`,
      });
      checks.push({
        target: `${at}: security on peak RSS <= vanilla's`,
        met: on.peakRssMb <= vanilla.peakRssMb,
        detail: `${on.peakRssMb.toFixed(0)} MB vs ${vanilla.peakRssMb.toFixed(0)} MB`,
      });
    }
    if (on !== undefined && undici !== undefined) {
      const floor = on.rps / undici.rps;
      checks.push({
        target: `${at}: security on never slower than vanilla + undici`,
        met: floor >= 1,
        detail: `${floor.toFixed(2)}x${floor >= 1 ? '' : `, gap ${(undici.rps - on.rps).toFixed(1)} req/s`}`,
      });
    }
    if (on !== undefined && off !== undefined) {
      const cost = 1 - on.rps / off.rps;
      checks.push({
        target: `${at}: security on costs <= 10 % of security off's req/s`,
        met: cost <= 0.1,
        detail: `${(cost * 100).toFixed(1)} %${cost <= 0.1 ? '' : `, gap ${((cost - 0.1) * 100).toFixed(1)} points`}`,
      });
    }
  }
  return checks;
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  return checks.map((check) => `${check.met ? 'met    ' : 'NOT MET'}  ${check.target}: ${check.detail}`).join('\n');
}
