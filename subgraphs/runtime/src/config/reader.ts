/**
 * Configuration is read from the environment exactly once per process, validated as a whole, and
 * frozen. Every problem names the variable that caused it, and all problems are reported together so
 * a bad deployment is fixed in one round.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigReader {
  readonly env: Env;
  /** A non-empty string, or the default (undefined means optional). */
  string(name: string, fallback?: string): string | undefined;
  required(name: string): string;
  int(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  port(name: string, fallback: number): number;
  bool(name: string, fallback: boolean): boolean;
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T;
  /** Record a problem found by cross-field validation. */
  problem(message: string): void;
  /** Throws ConfigError if any problem was recorded, otherwise returns the value deeply frozen. */
  finish<T extends object>(value: T): Readonly<T>;
}

export function createConfigReader(env: Env): ConfigReader {
  const problems: string[] = [];
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const reader: ConfigReader = {
    env,
    string(name, fallback) {
      return raw(name) ?? fallback;
    },
    required(name) {
      const value = raw(name);
      if (value === undefined) {
        problems.push(`${name} is required`);
        return '';
      }
      return value;
    },
    int(name, fallback, range = {}) {
      const value = raw(name);
      if (value === undefined) return fallback;
      if (!/^-?\d+$/.test(value)) {
        problems.push(`${name} must be a whole number, got "${value}"`);
        return fallback;
      }
      const parsed = Number(value);
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
      if (parsed < min || parsed > max) {
        problems.push(`${name} must be between ${min} and ${max}, got ${parsed}`);
        return fallback;
      }
      return parsed;
    },
    port(name, fallback) {
      return reader.int(name, fallback, { min: 0, max: 65535 });
    },
    bool(name, fallback) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      problems.push(`${name} must be true or false, got "${value}"`);
      return fallback;
    },
    oneOf(name, values, fallback) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const match = values.find((candidate) => candidate === value);
      if (match === undefined) {
        problems.push(`${name} must be one of ${values.join(', ')}, got "${value}"`);
        return fallback;
      }
      return match;
    },
    problem(message) {
      problems.push(message);
    },
    finish(value) {
      if (problems.length > 0) throw new ConfigError(problems);
      return deepFreeze(value);
    },
  };
  return reader;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
