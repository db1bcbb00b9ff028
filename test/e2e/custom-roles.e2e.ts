import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller } from '../src/client.ts';
import { addMember, createWorkspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();

async function createRole(
  admin: Caller,
  input: { name: string; baseRole: string; addPermissions?: string[]; removePermissions?: string[] },
) {
  return graphql<{ createCustomRole: { id: string; permissions: string[] } }>(
    stack.gatewayUrl,
    'mutation ($input: CreateCustomRoleInput!) { createCustomRole(input: $input) { id permissions } }',
    { as: admin, variables: { input } },
  );
}

const assign = (admin: Caller, userId: string, customRoleId: string) =>
  graphql(stack.gatewayUrl, 'mutation ($u: ID!, $r: ID!) { assignCustomRole(userId: $u, customRoleId: $r) }', {
    as: admin,
    variables: { u: userId, r: customRoleId },
  });

const createAccount = (as: Caller, number: string) =>
  graphql(
    stack.gatewayUrl,
    `mutation { createAccount(input: { number: "${number}", name: "Konto", type: ASSET }) { id } }`,
    { as },
  );
const createDocumentUpload = (as: Caller) =>
  graphql(stack.gatewayUrl, 'mutation { createDocumentUpload(input: { fileName: "a.pdf" }) { uploadUrl } }', { as });

describe('custom roles', () => {
  it('extend a built-in role with more permissions and rank as it', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'VIEWER');
    assert.equal(errorCode(await createAccount(member, '1000')), 'FORBIDDEN');

    const role = dataOf(
      await createRole(admin, { name: 'Buchhalter', baseRole: 'VIEWER', addPermissions: ['ACCOUNTING_WRITE'] }),
    );
    assert.deepEqual(role.createCustomRole.permissions, [
      'WORKSPACE_READ',
      'ACCOUNTING_READ',
      'ACCOUNTING_WRITE',
      'DOCUMENTS_READ',
    ]);
    dataOf(await assign(admin, member.userId, role.createCustomRole.id));

    dataOf(await createAccount(member, '1000'));
    assert.equal(errorCode(await createDocumentUpload(member)), 'FORBIDDEN');
    const { workspace } = dataOf(
      await graphql<{
        workspace: { members: { user: { id: string }; role: string; customRole: { name: string } | null }[] };
      }>(stack.gatewayUrl, '{ workspace { members { user { id } role customRole { name } } } }', { as: admin }),
    );
    assert.deepEqual(
      workspace.members.find((entry) => entry.user.id === member.userId),
      { user: { id: member.userId }, role: 'VIEWER', customRole: { name: 'Buchhalter' } },
    );
  });

  it('take permissions away from a built-in role', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'OPERATOR');
    dataOf(await createDocumentUpload(member));
    const role = dataOf(
      await createRole(admin, { name: 'Ohne Belege', baseRole: 'OPERATOR', removePermissions: ['DOCUMENTS_WRITE'] }),
    );
    dataOf(await assign(admin, member.userId, role.createCustomRole.id));
    assert.equal(errorCode(await createDocumentUpload(member)), 'FORBIDDEN');
    dataOf(await createAccount(member, '1010'));
  });

  it('never grant a permission the granter does not hold', async () => {
    const admin = await createWorkspace(stack);
    const deputy = await addMember(stack, admin, 'VIEWER');
    const limitedAdmin = dataOf(
      await createRole(admin, {
        name: 'Admin ohne Schlüssel',
        baseRole: 'ADMIN',
        removePermissions: ['APIKEYS_MANAGE'],
      }),
    );
    dataOf(await assign(admin, deputy.userId, limitedAdmin.createCustomRole.id));
    const escalation = await createRole(deputy, {
      name: 'Schlüsselmeister',
      baseRole: 'VIEWER',
      addPermissions: ['APIKEYS_MANAGE'],
    });
    assert.equal(errorCode(escalation), 'FORBIDDEN');
    dataOf(await createRole(deputy, { name: 'Leser', baseRole: 'VIEWER' }));
  });

  it('never take the last Admin away, and refuse unknown permissions by field', async () => {
    const admin = await createWorkspace(stack);
    const role = dataOf(await createRole(admin, { name: 'Leser', baseRole: 'VIEWER' }));
    assert.equal(errorCode(await assign(admin, admin.userId, role.createCustomRole.id)), 'BAD_USER_INPUT');
    const duplicate = await createRole(admin, { name: 'Leser', baseRole: 'VIEWER' });
    assert.equal(duplicate.body.errors?.[0]?.extensions?.field, 'name');
    const unknown = await createRole(admin, { name: 'X', baseRole: 'VIEWER', addPermissions: ['EVERYTHING'] });
    assert.equal(errorCode(unknown), 'BAD_USER_INPUT');
  });
});
