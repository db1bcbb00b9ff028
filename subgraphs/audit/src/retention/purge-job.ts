import { randomUUID } from 'node:crypto';
import { and, isNull, lt, sql } from 'drizzle-orm';
import { otherAuditActions } from '@numezis/schema';
import type { AuditEvent, SystemJob, Tx } from '@numezis/runtime';
import { appendToChain } from '../store/append.ts';
import type { ChainSettings } from '../store/append.ts';
import type { AuditEventRow } from '../tables.ts';
import { legalHolds, purgedEvents, workspaceTerms } from '../tables.ts';

/** Consecutive sequence numbers as [from, to] ranges: what the purge's own event records. */
export function asRanges(seqs: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const seq of [...seqs].sort((a, b) => a - b)) {
    const last = ranges.at(-1);
    if (last !== undefined && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}

interface Removed {
  readonly seq: number;
  readonly content_digest: Buffer | Uint8Array;
  readonly hash: Buffer | Uint8Array;
}

/**
 * Removes one workspace's expired events inside `tx` (scoped to it): as the purge role, which alone
 * may delete and which the table's trigger checks again (expired, no open hold); each removed
 * event leaves its digest and hash, so the chain still verifies, and the run records itself in the
 * trail with the sequence numbers it removed. Returns the purge event's row, or null if nothing expired.
 */
export async function purgeWorkspace(
  tx: Tx,
  tenantId: string,
  job: string,
  settings: ChainSettings,
): Promise<AuditEventRow[]> {
  const [hold] = await tx.select({ id: legalHolds.id }).from(legalHolds).where(isNull(legalHolds.releasedAt)).limit(1);
  if (hold !== undefined) return [];
  await tx.execute(sql`set local role numezis_audit_purge`);
  const result = await tx.execute(
    sql`delete from audit.audit_events e
         where audit.expires_at(e) < now() and not (e.source = 'audit' and e.action = ${otherAuditActions.purged.action})
         returning e.seq, e.content_digest, e.hash`,
  );
  const removed = (result as { rows: Removed[] }).rows;
  const now = new Date(settings.clock.now());
  if (removed.length > 0) {
    await tx.insert(purgedEvents).values(
      removed.map((row) => ({
        tenantId,
        seq: Number(row.seq),
        contentDigest: Buffer.from(row.content_digest),
        hash: Buffer.from(row.hash),
        purgedAt: now,
      })),
    );
  }
  await tx.execute(sql`set local role numezis_audit_app`);
  if (removed.length === 0) return [];
  const event: AuditEvent = {
    id: randomUUID(),
    tenantId,
    source: 'audit',
    action: otherAuditActions.purged.action,
    retention: otherAuditActions.purged.retention,
    actor: { kind: 'system', job },
    targets: [],
    before: null,
    after: { purgedCount: removed.length, purgedSequences: asRanges(removed.map((row) => Number(row.seq))) },
    outcome: 'success',
    reason: null,
    requestId: null,
    ip: null,
    userAgent: null,
    occurredAt: now.toISOString(),
  };
  return appendToChain(tx, tenantId, [event], settings);
}

/** Every hour or so: the workspaces whose subscription has ended, each purged in its own transaction. */
export function purgeJob(
  settings: ChainSettings,
  everyMs: number,
  published: (tenantId: string, rows: AuditEventRow[]) => Promise<void>,
): SystemJob {
  return {
    name: 'audit.purge',
    everyMs,
    quiet: true,
    async run(access, dataAccess) {
      const ended = await dataAccess.unsafeAsSystem(access, (tx) =>
        tx
          .select({ tenantId: workspaceTerms.tenantId })
          .from(workspaceTerms)
          .where(and(lt(workspaceTerms.subscriptionEndsAt, new Date(settings.clock.now())))),
      );
      let affected = 0;
      for (const { tenantId } of ended) {
        const rows = await dataAccess.inTenant(tenantId, (tx) => purgeWorkspace(tx, tenantId, access.job, settings));
        affected += rows.length;
        await published(tenantId, rows);
      }
      return { affected };
    },
  };
}
