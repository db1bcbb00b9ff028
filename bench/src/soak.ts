import type { GatewayUnderTest } from './gateways/index.ts';
import { drive } from './load.ts';
import { memoryMb } from './proc-stats.ts';
import { launchGateway } from './run-gateway.ts';
import type { RunSettings } from './run-gateway.ts';

export interface SoakResult {
  readonly baselineMb: number;
  readonly samples: readonly { readonly atS: number; readonly rssMb: number }[];
  /** The largest deviation from the baseline, in percent, either way. */
  readonly maxDeviationPercent: number;
  readonly rps: number;
  readonly failures: number;
}

/**
 * One gateway under steady load for `durationS` after its warm-up: resident memory is sampled at
 * intervals and compared with what it was when the warm-up ended.
 */
export async function soak(gateway: GatewayUnderTest, settings: RunSettings, durationS: number): Promise<SoakResult> {
  const launched = await launchGateway(gateway, settings);
  try {
    const { process, load } = launched;
    const connections = settings.connections[0] ?? 50;
    settings.log(`  ${gateway.label}: warm-up ${settings.durations.warmupS} s`);
    await drive({ ...load, connections, durationS: settings.durations.warmupS });
    const baselineMb = memoryMb(process.pid).rss;
    settings.log(
      `  ${gateway.label}: after warm-up RSS ${baselineMb.toFixed(1)} MB; soaking ${durationS} s at c${connections}`,
    );
    const intervalS = Math.min(60, Math.max(5, Math.round(durationS / 10)));
    const started = Date.now();
    const samples: { atS: number; rssMb: number }[] = [];
    const timer = setInterval(() => {
      const rssMb = memoryMb(process.pid).rss;
      const atS = Math.round((Date.now() - started) / 1000);
      samples.push({ atS, rssMb });
      const deviation = (100 * (rssMb - baselineMb)) / baselineMb;
      settings.log(
        `    t=${String(atS).padStart(4)} s  RSS ${rssMb.toFixed(1)} MB  (${deviation >= 0 ? '+' : ''}${deviation.toFixed(1)} %)`,
      );
    }, intervalS * 1000);
    const result = await drive({ ...load, connections, durationS });
    clearInterval(timer);
    const maxDeviationPercent = Math.max(
      0,
      ...samples.map((sample) => Math.abs((100 * (sample.rssMb - baselineMb)) / baselineMb)),
    );
    return { baselineMb, samples, maxDeviationPercent, rps: result.rps, failures: result.failures };
  } finally {
    await launched.stop();
  }
}
