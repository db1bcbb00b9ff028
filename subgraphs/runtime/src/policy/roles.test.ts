import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, GraphQLEnumType } from 'graphql';
import { accessDirectiveTypeDefs } from '@numezis/schema';
import {
  effectivePermissions,
  permissionFromEnum,
  permissions,
  permissionToEnum,
  roleAtLeast,
  rolePermissions,
  roles,
} from './roles.ts';

describe('the policy source', () => {
  it('ranks Admin over Manager over Operator over Viewer, and a higher role holds all a lower one does', () => {
    for (const [index, role] of roles.entries()) {
      for (const lower of roles.slice(index)) {
        assert.ok(roleAtLeast(role, lower));
        for (const permission of rolePermissions[lower]) assert.ok(rolePermissions[role].includes(permission));
      }
      for (const higher of roles.slice(0, index)) assert.ok(!roleAtLeast(role, higher));
    }
    assert.deepEqual([...rolePermissions.ADMIN].sort(), [...permissions].sort());
  });

  it('derives a custom role from its base role, plus and minus', () => {
    assert.deepEqual(effectivePermissions('VIEWER', ['accounting.write']), [
      'workspace.read',
      'accounting.read',
      'accounting.write',
      'documents.read',
    ]);
    assert.deepEqual(effectivePermissions('OPERATOR', [], ['documents.write']), [
      'workspace.read',
      'accounting.read',
      'accounting.write',
      'documents.read',
    ]);
  });

  it('maps permissions to GraphQL enum values and back', () => {
    for (const permission of permissions) assert.equal(permissionFromEnum(permissionToEnum(permission)), permission);
    assert.equal(permissionFromEnum('EVERYTHING'), null);
  });

  it('speaks the same roles and permissions as the schema contract, in the same order', () => {
    const schema = buildSchema(`${accessDirectiveTypeDefs}\ntype Query { ok: Boolean }`);
    const values = (name: string) => {
      const type = schema.getType(name);
      assert.ok(type instanceof GraphQLEnumType);
      return type.getValues().map((value) => value.name);
    };
    assert.deepEqual(values('Role'), [...roles]);
    assert.deepEqual(values('Permission'), permissions.map(permissionToEnum));
  });
});
