import type { PubSub } from '@numezis/runtime';
import type { AuditEventView } from '../store/event-view.ts';

/**
 * New events of a workspace, told to every subscriber on any replica as soon as they are stored.
 * Best effort by design: subscribers notice a gap in the sequence and read it from the database.
 */
export interface AuditFeed {
  publish(tenantId: string, events: readonly AuditEventView[]): Promise<void>;
  subscribe(tenantId: string, listener: (event: AuditEventView) => void): Promise<() => Promise<void>>;
}

interface Log {
  warn(entry: object, message: string): void;
}

const channelOf = (tenantId: string) => `feed:${tenantId}`;

export function createAuditFeed(pubsub: PubSub, log: Log): AuditFeed {
  return {
    async publish(tenantId, events) {
      if (events.length === 0) return;
      await pubsub.publish(channelOf(tenantId), JSON.stringify(events)).catch((error: unknown) =>
        // Subscribers fill the gap from the database with the next event they see.
        log.warn({ err: error, tenantId }, 'audit feed publish failed'),
      );
    },
    subscribe(tenantId, listener) {
      return pubsub.subscribe(channelOf(tenantId), (message) => {
        for (const event of JSON.parse(message) as AuditEventView[]) {
          // The channel is the workspace's; the check costs nothing and keeps a mixed-up message out.
          if (event.tenantId === tenantId) listener(event);
        }
      });
    },
  };
}
