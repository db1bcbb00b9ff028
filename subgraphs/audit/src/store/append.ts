import { desc, inArray, sql } from 'drizzle-orm';
import type { AuditEvent, Clock, DataAccess, Tx } from '@numezis/runtime';
import { chainHash, contentDigest, genesisHash, withoutNul } from '../chain/hash-chain.ts';
import type { CheckpointSigner } from '../chain/checkpoint-signer.ts';
import { statutoryUntil } from '../retention/statutory.ts';
import { auditEvents, checkpoints, purgedEvents, workspaceTerms } from '../tables.ts';
import type { AuditEventRow } from '../tables.ts';

/** The trail of events that belong to no workspace: sign-ups, sign-ins, failed attempts by nobody known. */
export const accountTrail = '00000000-0000-0000-0000-000000000000';

export interface ChainSettings {
  readonly signer: CheckpointSigner;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly clock: Clock;
}

/** The last link of a workspace's chain: its newest event, or the newest purged one. */
export async function chainHead(tx: Tx): Promise<{ seq: number; hash: Buffer }> {
  const [event] = await tx
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  const [purged] = await tx
    .select({ seq: purgedEvents.seq, hash: purgedEvents.hash })
    .from(purgedEvents)
    .orderBy(desc(purgedEvents.seq))
    .limit(1);
  const head = [event, purged].filter((link) => link !== undefined).sort((a, b) => b.seq - a.seq)[0];
  return head ?? { seq: 0, hash: genesisHash };
}

/** identity's record of a new workspace carries the terms retention needs. */
async function learnTerms(tx: Tx, tenantId: string, events: readonly AuditEvent[], now: Date): Promise<void> {
  for (const event of events) {
    if (event.source !== 'identity' || event.action !== 'workspace.created' || event.outcome !== 'success') continue;
    const after = event.after ?? {};
    const month = typeof after.fiscalYearStartMonth === 'number' ? after.fiscalYearStartMonth : 1;
    const ends = typeof after.subscriptionEndsAt === 'string' ? new Date(after.subscriptionEndsAt) : null;
    const terms = {
      fiscalYearStartMonth: Number.isInteger(month) && month >= 1 && month <= 12 ? month : 1,
      subscriptionEndsAt: ends === null || Number.isNaN(ends.getTime()) ? null : ends,
      updatedAt: now,
    };
    await tx
      .insert(workspaceTerms)
      .values({ tenantId, ...terms })
      .onConflictDoUpdate({ target: workspaceTerms.tenantId, set: terms });
  }
}

/**
 * Appends `events` (all of `tenantId`) to the workspace's chain inside `tx`: each id once (a
 * redelivered event is skipped), numbered after the current head under a per-workspace lock, each
 * hash linked to the previous, and a signed checkpoint when one is due. Returns the new rows.
 */
export async function appendToChain(
  tx: Tx,
  tenantId: string,
  events: readonly AuditEvent[],
  settings: ChainSettings,
): Promise<AuditEventRow[]> {
  // Replicas appending to one workspace take turns; other workspaces are not held up.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`numezis.audit.chain:${tenantId}`}, 0))`);
  const ids = [...new Set(events.map((event) => event.id))];
  const stored = new Set(
    (await tx.select({ id: auditEvents.id }).from(auditEvents).where(inArray(auditEvents.id, ids))).map(
      (row) => row.id,
    ),
  );
  const fresh: AuditEvent[] = [];
  for (const event of events) {
    if (stored.has(event.id)) continue;
    stored.add(event.id);
    fresh.push(withoutNul(event));
  }
  if (fresh.length === 0) return [];
  const now = new Date(settings.clock.now());
  await learnTerms(tx, tenantId, fresh, now);
  const [terms] = await tx.select().from(workspaceTerms).limit(1);
  let { seq, hash: previous } = await chainHead(tx);
  const rows: AuditEventRow[] = fresh.map((event) => {
    seq += 1;
    const occurredAt = new Date(event.occurredAt);
    const content = {
      tenantId,
      seq,
      id: event.id,
      source: event.source,
      action: event.action,
      retention: event.retention,
      actor: event.actor,
      targets: event.targets,
      before: event.before,
      after: event.after,
      outcome: event.outcome,
      reason: event.reason,
      requestId: event.requestId,
      ip: event.ip,
      userAgent: event.userAgent,
      occurredAt,
      recordedAt: now,
      statutoryUntil:
        event.retention === 'accounting' ? statutoryUntil(occurredAt, terms?.fiscalYearStartMonth ?? 1) : null,
    };
    const digest = contentDigest(content);
    const hash = chainHash(previous, digest);
    const row: AuditEventRow = {
      ...content,
      actorUserId: event.actor.kind === 'user' ? event.actor.userId : null,
      contentDigest: digest,
      prevHash: previous,
      hash,
    };
    previous = hash;
    return row;
  });
  await tx.insert(auditEvents).values(rows);
  await checkpointIfDue(tx, tenantId, { seq, hash: previous }, settings, now);
  return rows;
}

async function checkpointIfDue(
  tx: Tx,
  tenantId: string,
  head: { seq: number; hash: Buffer },
  settings: ChainSettings,
  now: Date,
): Promise<void> {
  const [last] = await tx
    .select({ seq: checkpoints.seq, signedAt: checkpoints.signedAt })
    .from(checkpoints)
    .orderBy(desc(checkpoints.seq))
    .limit(1);
  const due =
    last === undefined ||
    Math.floor(head.seq / settings.checkpointEvery) > Math.floor(last.seq / settings.checkpointEvery) ||
    now.getTime() - last.signedAt.getTime() >= settings.checkpointIntervalMs;
  if (!due || last?.seq === head.seq) return;
  const claim = { tenantId, seq: head.seq, hash: head.hash, signedAt: now };
  await tx
    .insert(checkpoints)
    .values({ ...claim, keyId: settings.signer.keyId, signature: settings.signer.sign(claim) });
}

/**
 * Stores a delivery of events, workspace by workspace (each in its own transaction, in the order
 * the workspaces first appear), and returns what was new per workspace, for the live feed.
 */
export async function appendEvents(
  dataAccess: DataAccess,
  events: readonly AuditEvent[],
  settings: ChainSettings,
): Promise<Map<string, AuditEventRow[]>> {
  const byTenant = new Map<string, AuditEvent[]>();
  for (const event of events) {
    const tenantId = event.tenantId ?? accountTrail;
    const list = byTenant.get(tenantId);
    if (list === undefined) byTenant.set(tenantId, [event]);
    else list.push(event);
  }
  const appended = new Map<string, AuditEventRow[]>();
  for (const [tenantId, list] of byTenant) {
    appended.set(tenantId, await dataAccess.inTenant(tenantId, (tx) => appendToChain(tx, tenantId, list, settings)));
  }
  return appended;
}
