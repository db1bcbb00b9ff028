import { desc } from 'drizzle-orm';
import { authorize, requirePermission, tenantIdOf } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import type { Loaders } from './loaders.ts';
import { auditEvents } from './tables.ts';
import type { AuditEventRow } from './tables.ts';

export interface AuditContext {
  readonly forwarded: ForwardedContext;
  readonly loaders: Loaders;
}

const maxPageSize = 200;

type Resolver = (source: never, args: never, context: AuditContext) => unknown;
/** Resolvers by type and field, as mercurius takes them (it types sources and arguments loosely). */
export type AuditResolvers = Record<string, Record<string, Resolver>>;

export function auditResolvers(dataAccess: DataAccess): AuditResolvers {
  return {
    Query: {
      auditEvents: (_: unknown, { first }: { first: number }, context: AuditContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.auditEvents'), (tx) =>
          tx
            .select()
            .from(auditEvents)
            .orderBy(desc(auditEvents.occurredAt))
            .limit(Math.min(Math.max(first, 0), maxPageSize)),
        ),
    },
    AuditEvent: {
      __resolveReference: (reference: { id: string }, _: unknown, context: AuditContext) =>
        context.loaders.events.load(reference.id),
      occurredAt: (event: AuditEventRow) => event.occurredAt.toISOString(),
      actor: (event: AuditEventRow) =>
        event.actorUserId === null ? null : { __typename: 'User', id: event.actorUserId },
    },
    Tenant: {
      // Only the active workspace resolves: another workspace's id is answered like a missing one.
      __resolveReference: (reference: { id: string }, _: unknown, context: AuditContext) =>
        reference.id === tenantIdOf(context.forwarded.access) ? { id: reference.id } : null,
      auditLog: async (tenant: { id: string }, _: unknown, context: AuditContext) => {
        requirePermission(context.forwarded, 'audit.read');
        return (await context.loaders.summaries.load(tenant.id)) ?? { eventCount: 0, latestEventAt: null };
      },
    },
  };
}
