/**
 * AccessMode: what one unit of work may see and do. The gateway builds the request kinds, signs them
 * into the forwarded context, and every subgraph resolver and data access function receives them.
 * `system` exists only inside a process (background jobs): the signed context cannot carry it, so no
 * request can ever act as the system.
 */
import { isPermission, isRole, roleAtLeast } from '../policy/roles.ts';
import type { Permission, Role } from '../policy/roles.ts';

/** A client workspace a fiduciary firm's member may read in portfolio mode, with the link's role. */
export interface PortfolioClient {
  readonly tenantId: string;
  readonly role: Role;
  readonly permissions: readonly Permission[];
}

/** The most client workspaces one portfolio request spans; the signed context travels in a header. */
export const maxPortfolioClients = 100;

export type RequestAccess =
  /** Nobody signed in: sign-in, sign-up and health only. */
  | { readonly kind: 'anonymous' }
  /** A signed-in person acting on their own account, in no workspace. */
  | { readonly kind: 'account' }
  /** One workspace: its data only, with the actor's role and permissions there. */
  | {
      readonly kind: 'tenant';
      readonly tenantId: string;
      readonly role: Role;
      /** Empty while the session still owes the workspace a second factor. */
      readonly permissions: readonly Permission[];
    }
  /**
   * A fiduciary firm's member reading across the client workspaces linked to the firm: read-only, and
   * each client's rows are read under that client's own row-level-security setting.
   */
  | { readonly kind: 'portfolio'; readonly firmTenantId: string; readonly clients: readonly PortfolioClient[] };

export type PortfolioAccess = Extract<RequestAccess, { readonly kind: 'portfolio' }>;

export interface SystemAccess {
  readonly kind: 'system';
  /** Which background job acts, for logs and the audit trail. */
  readonly job: string;
}

export type AccessMode = RequestAccess | SystemAccess;

export type AccessKind = AccessMode['kind'];

/** The access of a background job. Never built from anything a request carries. */
export function systemAccess(job: string): SystemAccess {
  if (!/^[a-z][a-z0-9.-]{0,63}$/.test(job)) throw new Error(`invalid system job name "${job}"`);
  return { kind: 'system', job };
}

/** The workspace a request acts in, or null outside tenant mode. */
export function tenantIdOf(access: RequestAccess): string | null {
  return access.kind === 'tenant' ? access.tenantId : null;
}

export function roleOf(access: RequestAccess): Role | null {
  return access.kind === 'tenant' ? access.role : null;
}

export function permissionsOf(access: RequestAccess): readonly Permission[] {
  return access.kind === 'tenant' ? access.permissions : [];
}

/** True in tenant mode with a role at or above `minimum` (a custom role ranks as its base role). */
export function holdsRoleAtLeast(access: RequestAccess, minimum: Role): boolean {
  return access.kind === 'tenant' && roleAtLeast(access.role, minimum);
}

/** The tenant a tenant-mode request acts in when it holds `permission` there, else null. */
export function tenantWith(access: RequestAccess, permission: Permission): string | null {
  return access.kind === 'tenant' && access.permissions.includes(permission) ? access.tenantId : null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isUuidText(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

function parsePermissions(value: unknown): Permission[] | null {
  return Array.isArray(value) && value.every(isPermission) ? [...value] : null;
}

/**
 * Strict shape check of a request access received over the wire. Unknown kinds (`system` among
 * them) and unexpected shapes are refused, never half-trusted.
 */
export function parseRequestAccess(value: unknown): RequestAccess | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  switch (record.kind) {
    case 'anonymous':
      return { kind: 'anonymous' };
    case 'account':
      return { kind: 'account' };
    case 'tenant': {
      const permissions = parsePermissions(record.permissions);
      if (!isUuidText(record.tenantId) || !isRole(record.role) || permissions === null) return null;
      return { kind: 'tenant', tenantId: record.tenantId, role: record.role, permissions };
    }
    case 'portfolio': {
      if (!isUuidText(record.firmTenantId) || !Array.isArray(record.clients)) return null;
      if (record.clients.length > maxPortfolioClients) return null;
      const clients: PortfolioClient[] = [];
      for (const client of record.clients as unknown[]) {
        if (typeof client !== 'object' || client === null) return null;
        const { tenantId, role, permissions } = client as Record<string, unknown>;
        const parsed = parsePermissions(permissions);
        if (!isUuidText(tenantId) || !isRole(role) || parsed === null) return null;
        clients.push({ tenantId, role, permissions: parsed });
      }
      return { kind: 'portfolio', firmTenantId: record.firmTenantId, clients };
    }
    default:
      return null;
  }
}
