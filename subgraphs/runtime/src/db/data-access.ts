import { sql } from 'drizzle-orm';
import { isUuid } from '../context/signed-context.ts';
import type { Db, Tx } from './database.ts';

/**
 * The one path through which a service reads and writes tenant data. Each call is one transaction
 * whose first statement sets the tenant for row-level security; the setting is transaction-local
 * (`set_config(..., true)`), so a pooled connection can never carry it into another request.
 */
export interface DataAccess {
  inTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function createDataAccess(db: Db): DataAccess {
  return {
    async inTenant(tenantId, work) {
      if (!isUuid(tenantId)) throw new Error('tenant id must be a UUID');
      return db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true)`);
        return work(tx);
      });
    },
  };
}
