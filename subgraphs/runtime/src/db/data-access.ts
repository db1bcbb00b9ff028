import { sql } from 'drizzle-orm';
import type { PortfolioAccess, PortfolioClient, SystemAccess } from '../context/access-mode.ts';
import { isUuid } from '../context/signed-context.ts';
import type { Permission } from '../policy/roles.ts';
import { runCommitHooks } from './commit-hooks.ts';
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
  /**
   * `app.system_job`: the background job acting. Only `unsafeAsSystem` sets it, so a policy that
   * admits one named job admits no request.
   */
  readonly systemJob?: string;
}

/** What a request may ask for: a system job's setting is not among it. */
export type RequestScope = Omit<Scope, 'systemJob'>;

/**
 * The one path through which a service reads and writes its data. Each call is one transaction
 * whose first statement sets the scope; the settings are transaction-local
 * (`set_config(..., true)`), so a pooled connection never carries them into another request.
 */
export interface DataAccess {
  inTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  inScope<T>(scope: RequestScope, work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Portfolio mode: `work` once per client workspace whose link grants `permission` (the others are
   * skipped), each in its own read-only transaction scoped to that client alone, so every client's
   * rows are read under its own row-level-security setting and nothing can be written. Results come
   * in the order of `access.clients`; `only`, when given, narrows the pass to those client ids.
   */
  inPortfolio<T>(
    access: PortfolioAccess,
    permission: Permission,
    work: (tx: Tx, client: PortfolioClient) => Promise<T>,
    options?: { readonly only?: ReadonlySet<string> },
  ): Promise<T[]>;
  /**
   * No scope at all: row-level security shows no tenant rows. Only for tables that hold no tenant
   * data (people, sessions) looked up by a secret or by a key the caller proved.
   */
  unsafeUnscoped<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A background job's unscoped transaction. Only a `SystemAccess` opens it, and only the job
   * scheduler makes one, so no request can; like `unsafeUnscoped`, it sees no tenant rows.
   */
  unsafeAsSystem<T>(access: SystemAccess, work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function createDataAccess(db: Db): DataAccess {
  const inScope = async <T>(scope: Scope, work: (tx: Tx) => Promise<T>, readOnly = false): Promise<T> => {
    if (scope.tenantId !== undefined && !isUuid(scope.tenantId)) throw new Error('tenant id must be a UUID');
    if (scope.userId !== undefined && !isUuid(scope.userId)) throw new Error('user id must be a UUID');
    if (scope.tokenHash !== undefined && !/^[0-9a-f]{64}$/.test(scope.tokenHash)) throw new Error('bad token hash');
    let opened: Tx | undefined;
    const result = await db.transaction(
      async (tx) => {
        opened = tx;
        await tx.execute(
          sql`select set_config('app.tenant_id', ${scope.tenantId ?? ''}, true),
                     set_config('app.user_id', ${scope.userId ?? ''}, true),
                     set_config('app.token_hash', ${scope.tokenHash ?? ''}, true),
                     set_config('app.system_job', ${scope.systemJob ?? ''}, true)`,
        );
        return work(tx);
      },
      // Read-only is PostgreSQL's own guarantee (every write fails with 25006), whatever `work` tries.
      readOnly ? { accessMode: 'read only' } : undefined,
    );
    if (opened !== undefined) runCommitHooks(opened);
    return result;
  };
  const inPortfolio: DataAccess['inPortfolio'] = async (access, permission, work, options = {}) => {
    // The type says portfolio; a caller that forced another access through must not get a pass.
    if (access.kind !== 'portfolio') throw new Error('inPortfolio needs portfolio access');
    const results = [];
    // One client after another: a portfolio of a hundred clients holds one pooled connection at a
    // time rather than starving every other request of the pool.
    for (const client of access.clients) {
      if (!client.permissions.includes(permission)) continue;
      if (options.only !== undefined && !options.only.has(client.tenantId)) continue;
      results.push(await inScope({ tenantId: client.tenantId }, (tx) => work(tx, client), true));
    }
    return results;
  };
  return {
    // Rebuilt field by field, so a system job setting forced through the type never reaches SQL.
    inScope: ({ tenantId, userId, tokenHash }, work) =>
      inScope(
        {
          ...(tenantId === undefined ? {} : { tenantId }),
          ...(userId === undefined ? {} : { userId }),
          ...(tokenHash === undefined ? {} : { tokenHash }),
        },
        work,
      ),
    inPortfolio,
    inTenant: (tenantId, work) => inScope({ tenantId }, work),
    unsafeUnscoped: (work) => inScope({}, work),
    unsafeAsSystem: (access, work) => {
      // The type says system; a value forced through from elsewhere must not get a pass.
      if (access.kind !== 'system') throw new Error('unsafeAsSystem needs system access');
      return inScope({ systemJob: access.job }, work);
    },
  };
}
