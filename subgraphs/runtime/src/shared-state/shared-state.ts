import { createClient } from '@redis/client';
import { StartupError } from '../server/run.ts';

/**
 * State the replicas of a service share: the gateway's rate-limit counters and persisted query
 * cache, identity's brute-force counters. With REDIS_URL they live in Redis, so every replica
 * counts and caches alike; without it, in this process's memory (the gateway, for one replica
 * only) or in PostgreSQL (identity's counters).
 */
export interface SharedState {
  readonly kind: 'redis' | 'memory';
  /**
   * Counts one hit in the fixed window `key` names and returns the window's count and how long it
   * has left. Redis makes the increment and the expiry one atomic step.
   */
  hit(key: string, windowMs: number): Promise<{ readonly count: number; readonly resetInMs: number }>;
  /** The window's count and time left without counting a hit; undefined when no window is open. */
  peek(key: string): Promise<{ readonly count: number; readonly resetInMs: number } | undefined>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

const hitScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }`;

const peekScript = `
local count = redis.call('GET', KEYS[1])
if not count then return false end
return { tonumber(count), redis.call('PTTL', KEYS[1]) }`;

/** `service` prefixes every key (numezis:<service>:…), so services never meet each other's keys. */
export async function openRedisState(url: string, service: string): Promise<SharedState> {
  const keyPrefix = `numezis:${service}:`;
  // Commands fail at once while Redis is away (no offline queue), so a request never waits on it.
  // Once connected, the client reconnects by itself; a first connection that fails stops the start.
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * 2 ** retries, 5_000) : cause),
    },
  });
  // Errors after start are answered per command; the client reconnects by itself.
  client.on('error', () => undefined);
  try {
    await client.connect();
    connected = true;
  } catch (error) {
    throw new StartupError(`REDIS_URL: cannot connect to Redis (${(error as Error).message})`);
  }
  return {
    kind: 'redis',
    async hit(key, windowMs) {
      const reply = (await client.eval(hitScript, {
        keys: [keyPrefix + key],
        arguments: [String(windowMs)],
      })) as [number, number];
      return { count: reply[0], resetInMs: Math.max(reply[1], 0) };
    },
    async peek(key) {
      const reply = (await client.eval(peekScript, { keys: [keyPrefix + key] })) as [number, number] | null;
      return reply === null ? undefined : { count: reply[0], resetInMs: Math.max(reply[1], 0) };
    },
    async get(key) {
      return (await client.get(keyPrefix + key)) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await client.set(keyPrefix + key, value, { expiration: { type: 'PX', value: ttlMs } });
    },
    async delete(key) {
      await client.del(keyPrefix + key);
    },
    async close() {
      client.destroy();
    },
  };
}

/**
 * The single-replica fallback: bounded, so neither counters nor cached documents can grow without
 * limit (the oldest entries go first).
 */
export function memoryState(now: () => number, maxEntries = 10_000): SharedState {
  const entries = new Map<string, { value: string; count: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry;
    entries.delete(key);
    return undefined;
  };
  const store = (key: string, entry: { value: string; count: number; expiresAt: number }) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  };
  return {
    kind: 'memory',
    async hit(key, windowMs) {
      const entry = live(key);
      if (entry === undefined) {
        store(key, { value: '', count: 1, expiresAt: now() + windowMs });
        return { count: 1, resetInMs: windowMs };
      }
      entry.count++;
      return { count: entry.count, resetInMs: entry.expiresAt - now() };
    },
    async peek(key) {
      const entry = live(key);
      return entry === undefined ? undefined : { count: entry.count, resetInMs: entry.expiresAt - now() };
    },
    async get(key) {
      return live(key)?.value;
    },
    async set(key, value, ttlMs) {
      store(key, { value, count: 0, expiresAt: now() + ttlMs });
    },
    async delete(key) {
      entries.delete(key);
    },
    async close() {
      entries.clear();
    },
  };
}
