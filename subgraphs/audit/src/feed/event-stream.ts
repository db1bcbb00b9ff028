import type { AuditEventView } from '../store/event-view.ts';
import type { AuditFeed } from './audit-feed.ts';

export interface EventStreamOptions {
  readonly tenantId: string;
  /** Deliver events after this sequence number; null starts at the workspace's newest event. */
  readonly afterSequence: number | null;
  readonly feed: AuditFeed;
  /** Events with a sequence number above `after`, oldest first, at most `limit`. */
  load(after: number, limit: number): Promise<readonly AuditEventView[]>;
  /** The workspace's newest sequence number (0 when it has none). */
  head(): Promise<number>;
  /** Live events held for a slow reader before it is switched back to reading the database. */
  readonly bufferLimit: number;
}

const pageSize = 200;

/**
 * A subscriber's events: first those after `afterSequence` from the database, then live ones from
 * the feed, each sequence number exactly once and in order. A live event that skips numbers (a
 * missed message, another replica's write) is preceded by the missing ones from the database.
 */
export async function openEventStream(options: EventStreamOptions): Promise<AsyncIterableIterator<AuditEventView>> {
  let live: AuditEventView[] = [];
  let overflowed = false;
  let wake: (() => void) | undefined;
  let closed = false;
  const unsubscribe = await options.feed.subscribe(options.tenantId, (event) => {
    if (live.length >= options.bufferLimit) {
      // The database has them all: drop the buffer and read from there when the reader catches up.
      live = [];
      overflowed = true;
    } else {
      live.push(event);
    }
    wake?.();
  });
  // Subscribed before reading the head: nothing stored in between is missed.
  let last = options.afterSequence ?? (await options.head());
  let pending: AuditEventView[] = [];

  // Catch up from the database first; afterwards only when the feed skipped something.
  let fromDatabase = true;
  const fill = async (): Promise<void> => {
    while (!closed) {
      if (overflowed) {
        overflowed = false;
        fromDatabase = true;
      }
      const next = live.filter((event) => event.sequence > last);
      live = [];
      const contiguous = next.filter((event, index) => event.sequence === last + 1 + index);
      if (!fromDatabase && contiguous.length > 0) {
        pending = contiguous;
        // A hole inside the batch: what follows it is read from the database next.
        fromDatabase = contiguous.length < next.length;
        return;
      }
      if (fromDatabase || next.length > 0) {
        const stored = await options.load(last, pageSize);
        fromDatabase = stored.length === pageSize;
        if (stored.length > 0) {
          pending = [...stored];
          return;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  };

  const finish = async (): Promise<IteratorResult<AuditEventView>> => {
    if (!closed) {
      closed = true;
      wake?.();
      await unsubscribe();
    }
    return { done: true, value: undefined };
  };

  const stream: AsyncIterableIterator<AuditEventView> = {
    async next() {
      if (closed) return { done: true, value: undefined };
      if (pending.length === 0) await fill();
      const event = pending.shift();
      if (closed || event === undefined) return finish();
      last = event.sequence;
      return { done: false, value: event };
    },
    return: finish,
    throw: async (error: unknown) => {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
