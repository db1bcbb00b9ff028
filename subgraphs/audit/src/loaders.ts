import type DataLoader from 'dataloader';
import { count, inArray, max } from 'drizzle-orm';
import { isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { eventView } from './store/event-view.ts';
import type { AuditEventView } from './store/event-view.ts';
import { auditEvents, workspaceTerms } from './tables.ts';

export interface AuditLogSummary {
  readonly eventCount: number;
  readonly latestEventAt: string | null;
}

export interface Loaders {
  readonly events: DataLoader<string, AuditEventView | null>;
  readonly summaries: DataLoader<string, AuditLogSummary | null>;
  /** When the active workspace's subscription ends (null while it runs), for `retainUntil`. */
  subscriptionEndsAt(): Promise<Date | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read the audit trail.
  const tenantId = tenantWith(context.access, 'audit.read');
  let terms: Promise<Date | null> | undefined;
  return {
    events: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(auditEvents)
        .where(inArray(auditEvents.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, eventView(row)]));
    }),
    summaries: tenantLoader(dataAccess, tenantId, async (tx, tenantIds) => {
      const rows = await tx
        .select({ tenantId: auditEvents.tenantId, eventCount: count(), latest: max(auditEvents.occurredAt) })
        .from(auditEvents)
        .where(inArray(auditEvents.tenantId, tenantIds.filter(isUuid)))
        .groupBy(auditEvents.tenantId);
      const byTenant = new Map(rows.map((row) => [row.tenantId, row]));
      // Row-level security hides other workspaces entirely: only the active one gets a summary.
      return new Map(
        tenantIds
          .filter((id) => id === tenantId)
          .map((id) => {
            const row = byTenant.get(id);
            return [id, { eventCount: row?.eventCount ?? 0, latestEventAt: row?.latest?.toISOString() ?? null }];
          }),
      );
    }),
    subscriptionEndsAt() {
      if (tenantId === null) return Promise.resolve(null);
      terms ??= dataAccess.inTenant(tenantId, async (tx) => {
        const [row] = await tx.select({ endsAt: workspaceTerms.subscriptionEndsAt }).from(workspaceTerms).limit(1);
        return row?.endsAt ?? null;
      });
      return terms;
    },
  };
}
