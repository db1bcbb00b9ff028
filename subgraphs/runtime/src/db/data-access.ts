import { sql } from 'drizzle-orm';
import { isUuid } from '../context/signed-context.ts';
import type { Db, Tx } from './database.ts';

/**
 * What a transaction may see under row-level security. Policies read these settings:
 * `app.tenant_id` (a workspace's data), `app.user_id` (a person's own rows across workspaces, such
 * as their memberships), `app.token_hash` (the one row a presented secret token names).
 */
export interface Scope {
  readonly tenantId?: string;
  readonly userId?: string;
  /** Hex SHA-256 of a secret token the caller presented. */
  readonly tokenHash?: string;
}

/**
 * The one path through which a service reads and writes its data. Each call is one transaction
 * whose first statement sets the scope; the settings are transaction-local
 * (`set_config(..., true)`), so a pooled connection never carries them into another request.
 */
export interface DataAccess {
  inTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  inScope<T>(scope: Scope, work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * No scope at all: row-level security shows no tenant rows. Only for tables that hold no tenant
   * data (people, sessions) looked up by a secret or by a key the caller proved.
   */
  unsafeUnscoped<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function createDataAccess(db: Db): DataAccess {
  const inScope: DataAccess['inScope'] = async (scope, work) => {
    if (scope.tenantId !== undefined && !isUuid(scope.tenantId)) throw new Error('tenant id must be a UUID');
    if (scope.userId !== undefined && !isUuid(scope.userId)) throw new Error('user id must be a UUID');
    if (scope.tokenHash !== undefined && !/^[0-9a-f]{64}$/.test(scope.tokenHash)) throw new Error('bad token hash');
    return db.transaction(async (tx) => {
      await tx.execute(
        sql`select set_config('app.tenant_id', ${scope.tenantId ?? ''}, true),
                   set_config('app.user_id', ${scope.userId ?? ''}, true),
                   set_config('app.token_hash', ${scope.tokenHash ?? ''}, true)`,
      );
      return work(tx);
    });
  };
  return {
    inScope,
    inTenant: (tenantId, work) => inScope({ tenantId }, work),
    unsafeUnscoped: (work) => inScope({}, work),
  };
}
