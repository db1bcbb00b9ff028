import { effectivePermissions, isPermission } from '@numezis/runtime';
import type { Permission } from '@numezis/runtime';
import type { CustomRoleRow } from './tables.ts';

/** What a member holding this custom role may do (stored permissions the policy no longer knows are ignored). */
export function customRolePermissions(
  row: Pick<CustomRoleRow, 'baseRole' | 'addedPermissions' | 'removedPermissions'>,
): Permission[] {
  return effectivePermissions(
    row.baseRole,
    row.addedPermissions.filter(isPermission),
    row.removedPermissions.filter(isPermission),
  );
}
