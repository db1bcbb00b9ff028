import type { GatewayKey } from './gateways/index.ts';

export interface BenchOptions {
  /** Only this scenario; null runs the default gateway scenario, then every service scenario. */
  readonly scenario: string | null;
  /** `--quick`: service scenarios shorten their own plans too. */
  readonly quick: boolean;
  readonly rounds: number;
  readonly warmupS: number;
  readonly measureS: number;
  readonly connections: readonly number[];
  readonly only: readonly GatewayKey[] | null;
  /** Soak: one gateway under load this long, memory reported at intervals. */
  readonly soakS: number | null;
  /** Write a V8 CPU profile of each gateway run into this folder. */
  readonly cpuProfileDir: string | null;
}

const gatewayKeys: readonly GatewayKey[] = ['vanilla', 'vanilla-undici', 'ours-off', 'ours-on'];

export const usage = `npm run bench [-- options]
  --quick              5 s warm-up, 10 s per phase, one round (for development); the mutation
                       scenario: 2 s warm-up and 3 s per side, one round (instead of 5 s, 3 x 12 s)
  --soak <duration>    soak the secured gateway for e.g. 10m or 90s, reporting memory at intervals
                       (the gateway scenario only)
  --rounds <n>         alternate all gateways n times (default 2); figures are the medians
  --warmup <seconds>   warm-up before measuring (default 10)
  --duration <seconds> each measured phase (default 25)
  --connections <list> comma-separated connection counts (default 50,10)
  --only <keys>        comma-separated: ${gatewayKeys.join(', ')}
  --scenario <name>    only this one: deep-query (gateways) or mutation (accounting's createContact
                       with audit outbox and encryption on and off); default: deep-query, then mutation
                       (--rounds, --warmup, --duration, --connections and --only are the gateways')
  --cpu-prof <dir>     write a CPU profile of each gateway run there`;

function seconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text);
  if (match === null) throw new Error(`not a duration: ${text} (use 90s, 10m, 1h)`);
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * unit;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let options: {
    -readonly [Key in keyof BenchOptions]: BenchOptions[Key];
  } = {
    scenario: null,
    quick: false,
    rounds: 2,
    warmupS: 10,
    measureS: 25,
    connections: [50, 10],
    only: null,
    soakS: null,
    cpuProfileDir: null,
  };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--quick':
        options = { ...options, quick: true, rounds: 1, warmupS: 5, measureS: 10 };
        break;
      case '--soak':
        options.soakS = seconds(value());
        break;
      case '--rounds':
        options.rounds = Math.max(1, Math.floor(Number(value())));
        break;
      case '--warmup':
        options.warmupS = seconds(value());
        break;
      case '--duration':
        options.measureS = seconds(value());
        break;
      case '--connections':
        options.connections = value()
          .split(',')
          .map((count) => Math.max(1, Math.floor(Number(count))));
        break;
      case '--only': {
        const keys = value().split(',');
        const unknown = keys.filter((key) => !(gatewayKeys as readonly string[]).includes(key));
        if (unknown.length > 0)
          throw new Error(`unknown gateway ${unknown.join(', ')}; known: ${gatewayKeys.join(', ')}`);
        options.only = keys as GatewayKey[];
        break;
      }
      case '--scenario':
        options.scenario = value();
        break;
      case '--cpu-prof':
        options.cpuProfileDir = value();
        break;
      default:
        throw new Error(`unknown option ${flag}\n${usage}`);
    }
  }
  if (options.connections.some((count) => !Number.isFinite(count))) throw new Error('--connections: numbers expected');
  return options;
}
