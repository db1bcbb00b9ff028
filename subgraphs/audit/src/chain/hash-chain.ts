import { createHash } from 'node:crypto';
import type { AuditActor, AuditTarget, Json, JsonObject } from '@numezis/runtime';

/**
 * The per-workspace hash chain. Each event's content digest covers everything the trail says of
 * it, its sequence number and workspace included; its hash covers that digest and the previous
 * event's hash. Editing, removing or reordering one event changes a digest or breaks a link.
 */
export const genesisHash = Buffer.alloc(32);

export interface ChainedContent {
  readonly tenantId: string;
  readonly seq: number;
  readonly id: string;
  readonly source: string;
  readonly action: string;
  readonly retention: string;
  readonly actor: AuditActor;
  readonly targets: readonly AuditTarget[];
  readonly before: JsonObject | null;
  readonly after: JsonObject | null;
  readonly outcome: string;
  readonly reason: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  readonly statutoryUntil: Date | null;
}

/** JSON with object keys sorted at every depth: one text per value, whatever stored it. */
export function canonicalJson(value: Json | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((item: Json) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as { readonly [key: string]: Json };
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function contentDigest(content: ChainedContent): Buffer {
  const json: Json = {
    tenantId: content.tenantId,
    seq: content.seq,
    id: content.id,
    source: content.source,
    action: content.action,
    retention: content.retention,
    actor: content.actor as unknown as Json,
    targets: content.targets as unknown as Json,
    before: content.before,
    after: content.after,
    outcome: content.outcome,
    reason: content.reason,
    requestId: content.requestId,
    ip: content.ip,
    userAgent: content.userAgent,
    occurredAt: content.occurredAt.toISOString(),
    recordedAt: content.recordedAt.toISOString(),
    statutoryUntil: content.statutoryUntil?.toISOString() ?? null,
  };
  return createHash('sha256').update('numezis.audit.event.v1\n').update(canonicalJson(json)).digest();
}

export function chainHash(previous: Buffer, digest: Buffer): Buffer {
  return createHash('sha256').update(previous).update(digest).digest();
}

/** PostgreSQL's jsonb refuses NUL in text; an event carrying one keeps it as U+FFFD instead of failing forever. */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD') as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withoutNul(item)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNul(item)])) as T;
  }
  return value;
}
