import { asc, inArray } from 'drizzle-orm';
import type { SystemJob } from '../jobs/system-jobs.ts';
import type { AuditSender } from './audit-sender.ts';
import { auditRelayJobName, outboxTable } from './outbox.ts';

const batchSize = 200;

/**
 * Ships the service's outbox to the audit subgraph, oldest first, and removes only what the audit
 * subgraph acknowledged. Delivery is at least once (a crash between the two steps sends a batch
 * again; the audit subgraph keeps each event id once). While the audit subgraph is down, nothing is
 * removed, and the events go out in their order when it is back. Replicas may run it at once: each
 * always takes the oldest rows, so they only ever send duplicates, never overtake each other.
 */
export function auditRelayJob(service: string, send: AuditSender, everyMs: number): SystemJob {
  const outbox = outboxTable(service);
  let running = false;
  return {
    name: auditRelayJobName(service),
    everyMs,
    quiet: true,
    async run(access, dataAccess) {
      // The scheduler starts a run every tick; one in flight per process is enough.
      if (running) return { affected: 0 };
      running = true;
      try {
        let shipped = 0;
        for (;;) {
          const rows = await dataAccess.unsafeAsSystem(access, (tx) =>
            tx
              .select({ position: outbox.position, event: outbox.event })
              .from(outbox)
              .orderBy(asc(outbox.position))
              .limit(batchSize),
          );
          if (rows.length === 0) return { affected: shipped };
          await send(rows.map((row) => row.event));
          const positions = rows.map((row) => row.position);
          await dataAccess.unsafeAsSystem(access, (tx) => tx.delete(outbox).where(inArray(outbox.position, positions)));
          shipped += rows.length;
          if (rows.length < batchSize) return { affected: shipped };
        }
      } finally {
        running = false;
      }
    },
  };
}
