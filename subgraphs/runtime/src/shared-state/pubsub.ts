import { EventEmitter } from 'node:events';
import { createClient } from '@redis/client';
import { StartupError } from '../server/run.ts';

/**
 * Messages on named channels for every replica of a service: through Redis pub/sub when REDIS_URL
 * is set, in-process otherwise (one replica). Delivery is best effort, as Redis pub/sub is: a
 * subscriber that must not miss anything reads what it missed from the database (the audit feed does).
 */
export interface PubSub {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is in place; the returned function ends it. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function memoryPubSub(): PubSub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    publish: async (channel, message) => {
      emitter.emit(channel, message);
    },
    subscribe: async (channel, listener) => {
      emitter.on(channel, listener);
      return async () => {
        emitter.off(channel, listener);
      };
    },
    close: async () => {
      emitter.removeAllListeners();
    },
  };
}

/** `service` prefixes every channel (numezis:<service>:…). */
export async function openRedisPubSub(url: string, service: string): Promise<PubSub> {
  const prefix = `numezis:${service}:`;
  let connected = false;
  const publisher = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * 2 ** retries, 5_000) : cause),
    },
  });
  publisher.on('error', () => undefined);
  const subscriber = publisher.duplicate();
  subscriber.on('error', () => undefined);
  try {
    await publisher.connect();
    await subscriber.connect();
    connected = true;
  } catch (error) {
    await publisher.close().catch(() => undefined);
    throw new StartupError(`REDIS_URL: cannot connect to Redis (${(error as Error).message})`);
  }
  return {
    kind: 'redis',
    publish: async (channel, message) => {
      await publisher.publish(prefix + channel, message);
    },
    subscribe: async (channel, listener) => {
      await subscriber.subscribe(prefix + channel, listener);
      return async () => {
        await subscriber.unsubscribe(prefix + channel, listener);
      };
    },
    close: async () => {
      await Promise.allSettled([subscriber.close(), publisher.close()]);
    },
  };
}
