/**
 * The one policy source: built-in workspace roles, ranked, and the permissions each holds, as data.
 * Subgraphs enforce permissions; the role × operation matrix test is generated from this file.
 */
export const roles = ['ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER'] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  'workspace.read',
  'workspace.manage',
  'members.manage',
  'accounting.read',
  'accounting.write',
  'documents.read',
  'documents.write',
  'audit.read',
  'apikeys.manage',
  'payroll.read',
  'payroll.write',
] as const;
export type Permission = (typeof permissions)[number];

// Payroll (employees and their AHV numbers) is the Admin's alone by default; a custom role can add it.
const reads: readonly Permission[] = ['workspace.read', 'accounting.read', 'documents.read'];

export const rolePermissions = {
  ADMIN: [...permissions],
  MANAGER: [...reads, 'accounting.write', 'documents.write', 'audit.read'],
  OPERATOR: [...reads, 'accounting.write', 'documents.write'],
  VIEWER: [...reads],
} as const satisfies Record<Role, readonly Permission[]>;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (permissions as readonly string[]).includes(value);
}

/** True when `role` ranks at or above `minimum` (Admin > Manager > Operator > Viewer). */
export function roleAtLeast(role: Role, minimum: Role): boolean {
  return roles.indexOf(role) <= roles.indexOf(minimum);
}

/**
 * A workspace's custom role: it ranks as its built-in base role and holds that role's permissions,
 * plus the added ones, minus the removed ones.
 */
export function effectivePermissions(
  baseRole: Role,
  added: readonly Permission[] = [],
  removed: readonly Permission[] = [],
): Permission[] {
  const granted = new Set<Permission>([...rolePermissions[baseRole], ...added]);
  for (const permission of removed) granted.delete(permission);
  return permissions.filter((permission) => granted.has(permission));
}

/** GraphQL spells permissions as enum values: `accounting.write` is `ACCOUNTING_WRITE`. */
export function permissionFromEnum(value: string): Permission | null {
  const candidate = value.toLowerCase().replace('_', '.');
  return isPermission(candidate) ? candidate : null;
}

export function permissionToEnum(permission: Permission): string {
  return permission.replace('.', '_').toUpperCase();
}
