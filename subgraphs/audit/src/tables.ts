import { pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const audit = pgSchema('audit');

export const auditEvents = audit.table('audit_events', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').primaryKey(),
  action: text('action').notNull(),
  actorUserId: uuid('actor_user_id'),
  occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type AuditEventRow = typeof auditEvents.$inferSelect;
