import { and, asc, count, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { authorize, badUserInput, clientError, ErrorCode, requirePermission, tenantIdOf } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import type { CheckpointSigner } from './chain/checkpoint-signer.ts';
import { verifyChain } from './chain/verify-chain.ts';
import { renderExport } from './export/audit-export.ts';
import type { ExportFormat } from './export/audit-export.ts';
import type { AuditFeed } from './feed/audit-feed.ts';
import { openEventStream } from './feed/event-stream.ts';
import type { Loaders } from './loaders.ts';
import { chainHead } from './store/append.ts';
import { eventView } from './store/event-view.ts';
import type { AuditEventView } from './store/event-view.ts';
import { auditEvents } from './tables.ts';

export interface AuditContext {
  readonly forwarded: ForwardedContext;
  readonly loaders: Loaders;
}

export interface AuditResolverDependencies {
  readonly dataAccess: DataAccess;
  readonly signer: CheckpointSigner;
  readonly feed: AuditFeed;
  readonly exportMaxEvents: number;
  readonly subscriptionBufferEvents: number;
}

const maxPageSize = 200;
const exportPlans = new Set(['PRO_PLUS', 'ENTERPRISE']);

interface AuditEventFilter {
  readonly actions?: readonly string[] | null;
  readonly outcome?: 'SUCCESS' | 'DENIED' | 'FAILED' | null;
  readonly actorId?: string | null;
  readonly requestId?: string | null;
  readonly source?: string | null;
  readonly from?: string | null;
  readonly to?: string | null;
}

function instant(text: string, field: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw badUserInput(field, `${field} must be an ISO 8601 date or instant, e.g. 2026-01-01T00:00:00Z`);
  }
  return date;
}

function conditions(filter: AuditEventFilter | null | undefined): SQL[] {
  if (filter === null || filter === undefined) return [];
  const where: SQL[] = [];
  if (filter.actions !== null && filter.actions !== undefined && filter.actions.length > 0) {
    where.push(inArray(auditEvents.action, [...filter.actions]));
  }
  if (filter.outcome) where.push(eq(auditEvents.outcome, filter.outcome.toLowerCase() as 'success'));
  if (filter.actorId) {
    where.push(
      sql`coalesce(${auditEvents.actor}->>'userId', ${auditEvents.actor}->>'keyId', ${auditEvents.actor}->>'job') = ${filter.actorId}`,
    );
  }
  if (filter.requestId) where.push(eq(auditEvents.requestId, filter.requestId));
  if (filter.source) where.push(eq(auditEvents.source, filter.source));
  if (filter.from) where.push(gte(auditEvents.occurredAt, instant(filter.from, 'filter.from')));
  if (filter.to) where.push(lt(auditEvents.occurredAt, instant(filter.to, 'filter.to')));
  return where;
}

type Resolver = (source: never, args: never, context: AuditContext) => unknown;
/** Resolvers by type and field, as mercurius takes them (it types sources and arguments loosely). */
export type AuditResolvers = Record<string, Record<string, Resolver | { subscribe: Resolver; resolve: Resolver }>>;

export function auditResolvers(dependencies: AuditResolverDependencies): AuditResolvers {
  const { dataAccess, signer, feed } = dependencies;
  return {
    Query: {
      auditEvents: async (
        _: unknown,
        args: { first: number; beforeSequence?: number | null; filter?: AuditEventFilter | null },
        context: AuditContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Query.auditEvents');
        const where = conditions(args.filter);
        if (args.beforeSequence !== null && args.beforeSequence !== undefined) {
          where.push(lt(auditEvents.seq, args.beforeSequence));
        }
        const rows = await dataAccess.inTenant(tenantId, (tx) =>
          tx
            .select()
            .from(auditEvents)
            .where(and(...where))
            .orderBy(desc(auditEvents.seq))
            .limit(Math.min(Math.max(args.first, 0), maxPageSize)),
        );
        return rows.map(eventView);
      },
      verifyAuditChain: (_: unknown, __: unknown, context: AuditContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.verifyAuditChain'), (tx) => verifyChain(tx, signer)),
    },
    Subscription: {
      auditEvents: {
        subscribe: async (_: unknown, args: { afterSequence?: number | null }, context: AuditContext) => {
          // Field directives guard each event's resolve; the subscription itself is checked here.
          const tenantId = authorize(context.forwarded, 'Subscription.auditEvents');
          const after = args.afterSequence ?? null;
          if (after !== null && after < 0) throw badUserInput('afterSequence', 'afterSequence must be 0 or more');
          return openEventStream({
            tenantId,
            afterSequence: after,
            feed,
            bufferLimit: dependencies.subscriptionBufferEvents,
            head: () => dataAccess.inTenant(tenantId, async (tx) => (await chainHead(tx)).seq),
            load: (from, limit) =>
              dataAccess.inTenant(tenantId, async (tx) =>
                (
                  await tx
                    .select()
                    .from(auditEvents)
                    .where(sql`${auditEvents.seq} > ${from}`)
                    .orderBy(asc(auditEvents.seq))
                    .limit(limit)
                ).map(eventView),
              ),
          });
        },
        resolve: (event: AuditEventView) => event,
      },
    },
    AuditEvent: {
      __resolveReference: (reference: { id: string }, _: unknown, context: AuditContext) =>
        context.loaders.events.load(reference.id),
      actor: (event: AuditEventView) =>
        event.actorUserId === null ? null : { __typename: 'User', id: event.actorUserId },
      retainUntil: async (event: AuditEventView, _: unknown, context: AuditContext) => {
        const ends = await context.loaders.subscriptionEndsAt();
        if (ends === null) return null;
        const statutory = event.statutoryUntil === null ? 0 : Date.parse(event.statutoryUntil);
        return new Date(Math.max(statutory, ends.getTime())).toISOString();
      },
    },
    Tenant: {
      // Only the active workspace resolves: another workspace's id is answered like a missing one.
      // The plan comes from identity through the gateway's query plan (@requires).
      __resolveReference: (reference: { id: string; plan?: string }, _: unknown, context: AuditContext) =>
        reference.id === tenantIdOf(context.forwarded.access)
          ? { id: reference.id, plan: reference.plan ?? null }
          : null,
      auditLog: async (tenant: { id: string }, _: unknown, context: AuditContext) => {
        requirePermission(context.forwarded, 'audit.read');
        return (await context.loaders.summaries.load(tenant.id)) ?? { eventCount: 0, latestEventAt: null };
      },
      auditExport: async (
        tenant: { id: string; plan: string | null },
        args: { from: string; to: string; format: ExportFormat },
        context: AuditContext,
      ) => {
        const tenantId = requirePermission(context.forwarded, 'audit.read');
        if (tenant.id !== tenantId) throw clientError(ErrorCode.NOT_FOUND, 'Workspace not found');
        if (tenant.plan === null || !exportPlans.has(tenant.plan)) {
          throw clientError(
            ErrorCode.FORBIDDEN,
            `Exporting the audit trail needs the PRO_PLUS or ENTERPRISE plan; this workspace is on ${tenant.plan ?? 'an unknown plan'}`,
            { reason: 'PLAN_REQUIRED', requiredPlans: [...exportPlans] },
          );
        }
        const from = instant(args.from, 'from');
        const to = instant(args.to, 'to');
        if (to.getTime() <= from.getTime()) throw badUserInput('to', 'to must be after from');
        const inRange = and(gte(auditEvents.occurredAt, from), lt(auditEvents.occurredAt, to));
        const rows = await dataAccess.inTenant(tenantId, async (tx) => {
          const [total] = await tx.select({ n: count() }).from(auditEvents).where(inRange);
          if ((total?.n ?? 0) > dependencies.exportMaxEvents) {
            throw badUserInput(
              'from',
              `the range holds ${total?.n} events, more than the ${dependencies.exportMaxEvents} one export may hold: narrow it`,
            );
          }
          return tx.select().from(auditEvents).where(inRange).orderBy(asc(auditEvents.seq));
        });
        return { format: args.format, eventCount: rows.length, ...renderExport(args.format, rows.map(eventView)) };
      },
    },
  };
}
