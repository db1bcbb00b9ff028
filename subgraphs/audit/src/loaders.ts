import type DataLoader from 'dataloader';
import { count, inArray, max } from 'drizzle-orm';
import { isUuid, tenantLoader, tenantWith } from '@numezis/runtime';
import type { DataAccess, ForwardedContext } from '@numezis/runtime';
import { auditEvents } from './tables.ts';
import type { AuditEventRow } from './tables.ts';

export interface AuditLogSummary {
  readonly eventCount: number;
  readonly latestEventAt: string | null;
}

export interface Loaders {
  readonly events: DataLoader<string, AuditEventRow | null>;
  readonly summaries: DataLoader<string, AuditLogSummary | null>;
}

export function createLoaders(dataAccess: DataAccess, context: ForwardedContext): Loaders {
  // Entity references resolve only for a caller allowed to read the audit trail.
  const tenantId = tenantWith(context.access, 'audit.read');
  return {
    events: tenantLoader(dataAccess, tenantId, async (tx, ids) => {
      const rows = await tx
        .select()
        .from(auditEvents)
        .where(inArray(auditEvents.id, ids.filter(isUuid)));
      return new Map(rows.map((row) => [row.id, row]));
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
  };
}
