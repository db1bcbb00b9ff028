import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldPolicy } from '@numezis/schema';
import type { RequestAccess } from '../context/access-mode.ts';
import type { Actor, ForwardedContext } from '../context/signed-context.ts';
import { checkFieldAccess } from './field-access.ts';
import { effectivePermissions, rolePermissions } from './roles.ts';
import type { Role } from './roles.ts';

const tenantId = '6f9c3d1a-2b4e-4c5d-8e7f-0a1b2c3d4e5f';
const user: Actor = {
  kind: 'user',
  userId: '0b6f1f7e-6a3f-4b47-9d5e-1f1f1f1f1f1f',
  sessionId: '5d1c1a7e-6a3f-4b47-9d5e-2f2f2f2f2f2f',
};

function contextWith(access: RequestAccess, extra: Partial<ForwardedContext> = {}): ForwardedContext {
  return {
    requestId: 'req-1',
    clientIp: '127.0.0.1',
    userAgent: null,
    actor: access.kind === 'anonymous' ? { kind: 'anonymous' } : user,
    access,
    mfaAt: null,
    mfaRequired: false,
    ...extra,
  };
}

const member = (role: Role, permissions = rolePermissions[role]) =>
  contextWith({ kind: 'tenant', tenantId, role, permissions });
const portfolio = contextWith({ kind: 'portfolio', firmTenantId: tenantId, clients: [] });

const policy = (fields: Omit<FieldPolicy, 'subgraph'>): FieldPolicy => ({ subgraph: 'test', ...fields });
const codeOf = (denial: ReturnType<typeof checkFieldAccess>) => denial?.code ?? 'ALLOWED';

describe('field access decision', () => {
  it('lets anyone through a public field, and only a person through a signed-in one', () => {
    const anonymous = contextWith({ kind: 'anonymous' });
    assert.equal(checkFieldAccess(policy({ scope: 'public' }), 'Query.me', anonymous), null);
    assert.equal(codeOf(checkFieldAccess(policy({ scope: 'signed-in' }), 'Mutation.x', anonymous)), 'UNAUTHENTICATED');
    assert.equal(
      checkFieldAccess(policy({ scope: 'signed-in' }), 'Mutation.x', contextWith({ kind: 'account' })),
      null,
    );
    const apiKey = { ...member('ADMIN'), actor: { kind: 'apiKey', keyId: tenantId } } as const;
    assert.equal(codeOf(checkFieldAccess(policy({ scope: 'signed-in' }), 'Mutation.x', apiKey)), 'UNAUTHENTICATED');
  });

  it('refuses a root field without a policy (default deny), and leaves other fields alone', () => {
    assert.deepEqual(checkFieldAccess(undefined, 'Query.secret', member('ADMIN'))?.extensions, { reason: 'NO_POLICY' });
    assert.equal(checkFieldAccess(undefined, 'Account.name', member('VIEWER')), null);
  });

  it('needs one workspace, the permission, and a second factor when one is owed', () => {
    const read = policy({ scope: 'tenant', permission: 'accounting.read' });
    const write = policy({ scope: 'tenant', permission: 'accounting.write' });
    assert.equal(checkFieldAccess(read, 'Query.accounts', member('VIEWER')), null);
    assert.deepEqual(checkFieldAccess(write, 'Mutation.createAccount', member('VIEWER'))?.extensions, {
      permission: 'accounting.write',
    });
    assert.equal(codeOf(checkFieldAccess(read, 'Query.accounts', contextWith({ kind: 'account' }))), 'UNAUTHENTICATED');
    const owesMfa = { ...member('ADMIN', []), mfaRequired: true };
    assert.deepEqual(checkFieldAccess(read, 'Query.accounts', owesMfa)?.extensions, { reason: 'MFA_REQUIRED' });
  });

  it('passes @requiresRole for that role or higher, and for a custom role based on one of them', () => {
    const managerUp = policy({ scope: 'tenant', role: 'MANAGER' });
    assert.equal(checkFieldAccess(managerUp, 'Mutation.x', member('ADMIN')), null);
    assert.equal(checkFieldAccess(managerUp, 'Mutation.x', member('MANAGER')), null);
    assert.deepEqual(checkFieldAccess(managerUp, 'Mutation.x', member('OPERATOR'))?.extensions, {
      requiredRole: 'MANAGER',
    });
    // A custom role ranks as its base role, whatever permissions it adds or removes.
    const customOnManager = member('MANAGER', effectivePermissions('MANAGER', [], ['accounting.write']));
    assert.equal(checkFieldAccess(managerUp, 'Mutation.x', customOnManager), null);
    const customOnOperator = member('OPERATOR', effectivePermissions('OPERATOR', ['audit.read']));
    assert.equal(codeOf(checkFieldAccess(managerUp, 'Mutation.x', customOnOperator)), 'FORBIDDEN');
  });

  it('wants both when a field carries a role and a permission', () => {
    const adminManage = policy({ scope: 'tenant', role: 'ADMIN', permission: 'workspace.manage' });
    const managerWithManage = member('MANAGER', effectivePermissions('MANAGER', ['workspace.manage']));
    assert.deepEqual(checkFieldAccess(adminManage, 'Mutation.setMfaRequired', managerWithManage)?.extensions, {
      requiredRole: 'ADMIN',
    });
    assert.equal(checkFieldAccess(adminManage, 'Mutation.setMfaRequired', member('ADMIN')), null);
  });

  it('keeps portfolio access to portfolio fields and reads', () => {
    const books = policy({ scope: 'portfolio', permission: 'accounting.read' });
    assert.equal(checkFieldAccess(books, 'Query.portfolioBooks', portfolio), null);
    assert.deepEqual(checkFieldAccess(books, 'Query.portfolioBooks', member('ADMIN'))?.extensions, {
      reason: 'PORTFOLIO_ONLY',
    });
    const write = policy({ scope: 'tenant', permission: 'accounting.write' });
    assert.deepEqual(checkFieldAccess(write, 'Mutation.createAccount', portfolio)?.extensions, {
      reason: 'PORTFOLIO_READ_ONLY',
    });
    assert.deepEqual(
      checkFieldAccess(policy({ scope: 'signed-in' }), 'Mutation.createWorkspace', portfolio)?.extensions,
      {
        reason: 'PORTFOLIO_READ_ONLY',
      },
    );
    const read = policy({ scope: 'tenant', permission: 'accounting.read' });
    assert.equal(codeOf(checkFieldAccess(read, 'Query.accounts', portfolio)), 'FORBIDDEN');
    assert.equal(checkFieldAccess(policy({ scope: 'public' }), 'Query.me', portfolio), null);
  });
});
