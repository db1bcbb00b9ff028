/**
 * Every piece of time-dependent logic takes a Clock, so tests can move time without sleeping.
 * Only the system clock, optionally shifted by a configured offset outside production, is built from
 * configuration: production refuses the offset (see config/common.ts).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  if (offsetMs === 0) return base;
  return { now: () => base.now() + offsetMs };
}

/** A clock that only moves when told to: for unit tests. */
export function manualClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}
