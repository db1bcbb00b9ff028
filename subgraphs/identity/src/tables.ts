import { pgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const identity = pgSchema('identity');

export const plans = ['FREE', 'PRO', 'PRO_PLUS', 'ENTERPRISE'] as const;
export const roles = ['ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER'] as const;

export const tenants = identity.table('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  plan: text('plan', { enum: plans }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const users = identity.table('users', {
  id: uuid('id').primaryKey(),
  displayName: text('display_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const memberships = identity.table(
  'memberships',
  {
    tenantId: uuid('tenant_id').notNull(),
    userId: uuid('user_id').notNull(),
    role: text('role', { enum: roles }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.userId] })],
);

export type TenantRow = typeof tenants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
