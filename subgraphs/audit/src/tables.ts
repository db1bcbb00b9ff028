import { bigint, customType, jsonb, pgSchema, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { AuditActor, AuditTarget, JsonObject } from '@numezis/runtime';

const audit = pgSchema('audit');

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  // node-postgres gives a Buffer, PGlite a Uint8Array.
  fromDriver: (value) => Buffer.from(value),
});

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const auditEvents = audit.table('audit_events', {
  tenantId: uuid('tenant_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  id: uuid('id').notNull(),
  source: text('source').notNull(),
  action: text('action').notNull(),
  retention: text('retention', { enum: ['accounting', 'standard'] }).notNull(),
  actor: jsonb('actor').$type<AuditActor>().notNull(),
  actorUserId: uuid('actor_user_id'),
  targets: jsonb('targets').$type<readonly AuditTarget[]>().notNull(),
  before: jsonb('before').$type<JsonObject>(),
  after: jsonb('after').$type<JsonObject>(),
  outcome: text('outcome', { enum: ['success', 'denied', 'failed'] }).notNull(),
  reason: text('reason'),
  requestId: text('request_id'),
  ip: text('ip'),
  userAgent: text('user_agent'),
  occurredAt: at('occurred_at').notNull(),
  recordedAt: at('recorded_at').notNull(),
  statutoryUntil: at('statutory_until'),
  contentDigest: bytea('content_digest').notNull(),
  prevHash: bytea('prev_hash').notNull(),
  hash: bytea('hash').notNull(),
});

export type AuditEventRow = typeof auditEvents.$inferSelect;

export const purgedEvents = audit.table('purged_events', {
  tenantId: uuid('tenant_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  contentDigest: bytea('content_digest').notNull(),
  hash: bytea('hash').notNull(),
  purgedAt: at('purged_at').notNull(),
});

export const checkpoints = audit.table('checkpoints', {
  tenantId: uuid('tenant_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: bytea('hash').notNull(),
  signedAt: at('signed_at').notNull(),
  keyId: text('key_id').notNull(),
  signature: bytea('signature').notNull(),
});

export type CheckpointRow = typeof checkpoints.$inferSelect;

export const workspaceTerms = audit.table('workspace_terms', {
  tenantId: uuid('tenant_id').primaryKey(),
  fiscalYearStartMonth: smallint('fiscal_year_start_month').notNull(),
  subscriptionEndsAt: at('subscription_ends_at'),
  updatedAt: at('updated_at').notNull(),
});

export const legalHolds = audit.table('legal_holds', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  reason: text('reason').notNull(),
  placedAt: at('placed_at').notNull(),
  releasedAt: at('released_at'),
});
