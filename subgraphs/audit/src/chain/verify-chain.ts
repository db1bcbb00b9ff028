import { asc, gt } from 'drizzle-orm';
import type { Tx } from '@numezis/runtime';
import { auditEvents, checkpoints, purgedEvents } from '../tables.ts';
import type { AuditEventRow, CheckpointRow } from '../tables.ts';
import type { CheckpointSigner } from './checkpoint-signer.ts';
import { chainHash, contentDigest, genesisHash } from './hash-chain.ts';

export interface ChainVerification {
  readonly valid: boolean;
  readonly checkedEvents: number;
  readonly purgedEvents: number;
  readonly lastSequence: number;
  /** The first sequence number where the chain breaks. */
  readonly firstBrokenSequence: number | null;
  readonly problem: string | null;
  readonly checkpointsVerified: number;
  /** The oldest checkpoint the chain was matched against. */
  readonly oldestCheckpoint: number | null;
}

type Link =
  | { readonly kind: 'event'; readonly row: AuditEventRow }
  | { readonly kind: 'purged'; readonly seq: number; readonly digest: Buffer; readonly hash: Buffer };

const pageSize = 1_000;

/** The purge's own events name the ranges they removed; a removed event nobody recorded is a break. */
function purgedRanges(row: AuditEventRow): [number, number][] {
  if (row.action !== 'audit.purged' || row.source !== 'audit') return [];
  const ranges = row.after?.purgedSequences;
  if (!Array.isArray(ranges)) return [];
  return ranges.filter(
    (range): range is [number, number] =>
      Array.isArray(range) && range.length === 2 && typeof range[0] === 'number' && typeof range[1] === 'number',
  );
}

/**
 * Walks the active workspace's chain (row-level security scopes `tx`) from its first event:
 * recomputes each event's digest from what is stored, checks each link and each signed checkpoint,
 * and names the first sequence number where anything does not hold.
 */
export async function verifyChain(tx: Tx, signer: CheckpointSigner): Promise<ChainVerification> {
  const marks = new Map<number, CheckpointRow>(
    (await tx.select().from(checkpoints).orderBy(asc(checkpoints.seq))).map((row) => [row.seq, row]),
  );
  const oldestCheckpoint = marks.size === 0 ? null : Math.min(...marks.keys());
  let previous: Buffer = genesisHash;
  let expected = 1;
  let checked = 0;
  let purgedCount = 0;
  let checkpointsVerified = 0;
  const purgedSeqs: number[] = [];
  const recordedRanges: [number, number][] = [];
  const broken = (seq: number, problem: string): ChainVerification => ({
    valid: false,
    checkedEvents: checked,
    purgedEvents: purgedCount,
    lastSequence: expected - 1,
    firstBrokenSequence: seq,
    problem,
    checkpointsVerified,
    oldestCheckpoint,
  });

  for (;;) {
    const after = expected - 1;
    const events = await tx
      .select()
      .from(auditEvents)
      .where(gt(auditEvents.seq, after))
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    const purged = await tx
      .select()
      .from(purgedEvents)
      .where(gt(purgedEvents.seq, after))
      .orderBy(asc(purgedEvents.seq))
      .limit(pageSize);
    const links = new Map<number, Link>();
    for (const row of purged)
      links.set(row.seq, { kind: 'purged', seq: row.seq, digest: row.contentDigest, hash: row.hash });
    for (const row of events) {
      if (links.has(row.seq)) return broken(row.seq, 'an event and a purge record share this sequence number');
      links.set(row.seq, { kind: 'event', row });
    }
    if (links.size === 0) break;
    // Only the part of this page that is complete on both sides: the next page resumes after it.
    const lastEvent = events.length === pageSize ? (events.at(-1)?.seq ?? Infinity) : Infinity;
    const lastPurged = purged.length === pageSize ? (purged.at(-1)?.seq ?? Infinity) : Infinity;
    const limit = Math.min(lastEvent, lastPurged, Math.max(...links.keys()));
    for (; expected <= limit; expected++) {
      const link = links.get(expected);
      if (link === undefined) return broken(expected, 'event missing');
      let hash: Buffer;
      if (link.kind === 'event') {
        const digest = contentDigest(link.row);
        if (!digest.equals(link.row.contentDigest)) return broken(expected, 'event content does not match its digest');
        if (!link.row.prevHash.equals(previous)) return broken(expected, 'event does not link to the one before');
        hash = chainHash(previous, digest);
        if (!hash.equals(link.row.hash)) return broken(expected, 'event hash does not match');
        recordedRanges.push(...purgedRanges(link.row));
        checked += 1;
      } else {
        hash = chainHash(previous, link.digest);
        if (!hash.equals(link.hash)) return broken(expected, 'purge record hash does not match');
        purgedSeqs.push(expected);
        purgedCount += 1;
      }
      const mark = marks.get(expected);
      if (mark !== undefined) {
        const claim = { tenantId: mark.tenantId, seq: mark.seq, hash: mark.hash, signedAt: mark.signedAt };
        if (!mark.hash.equals(hash) || !signer.verify(claim, mark.keyId, mark.signature)) {
          return broken(expected, 'signed checkpoint does not match the chain');
        }
        checkpointsVerified += 1;
      }
      previous = hash;
    }
  }
  const lastSequence = expected - 1;
  const beyond = [...marks.keys()].filter((seq) => seq > lastSequence);
  if (beyond.length > 0) return broken(lastSequence + 1, 'events missing after the last one stored');
  const unrecorded = purgedSeqs.find((seq) => !recordedRanges.some(([from, to]) => seq >= from && seq <= to));
  if (unrecorded !== undefined) return broken(unrecorded, 'event removed without a purge that records it');
  return {
    valid: true,
    checkedEvents: checked,
    purgedEvents: purgedCount,
    lastSequence,
    firstBrokenSequence: null,
    problem: null,
    checkpointsVerified,
    oldestCheckpoint,
  };
}
