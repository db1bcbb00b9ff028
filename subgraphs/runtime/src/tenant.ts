import type { PortfolioAccess } from './context/access-mode.ts';
import type { ForwardedContext } from './context/signed-context.ts';
import type { GraphQLError } from 'graphql';
import type { FieldPolicy } from '@numezis/schema';
import { clientError, ErrorCode } from './errors.ts';
import { checkFieldAccess } from './policy/field-access.ts';
import type { Denial } from './policy/field-access.ts';
import { fieldPolicy } from './policy/operations.ts';
import type { PortfolioOperation, WorkspaceOperation } from './policy/operations.ts';
import type { Permission } from './policy/roles.ts';

/** The workspace a tenant-scoped field acts in; refuses a request that acts in none. */
export function requireTenant(context: ForwardedContext): string {
  if (context.access.kind === 'portfolio') {
    throw clientError(ErrorCode.FORBIDDEN, 'Portfolio mode only reads: choose one workspace to act in', {
      reason: 'PORTFOLIO_READ_ONLY',
    });
  }
  if (context.access.kind !== 'tenant') {
    throw clientError(ErrorCode.UNAUTHENTICATED, 'This operation needs an active workspace');
  }
  return context.access.tenantId;
}

/**
 * The single check at the top of every tenant-scoped operation: a workspace, a member of it, MFA
 * when the workspace demands it, and the permission. Returns the workspace id to act in.
 */
export function requirePermission(context: ForwardedContext, permission: Permission): string {
  if (context.actor.kind === 'anonymous') {
    throw clientError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  }
  const tenantId = requireTenant(context);
  if (context.mfaRequired) {
    throw clientError(ErrorCode.FORBIDDEN, 'This workspace requires multi-factor authentication: enrol first', {
      reason: 'MFA_REQUIRED',
    });
  }
  if (context.access.kind !== 'tenant' || !context.access.permissions.includes(permission)) {
    throw clientError(ErrorCode.FORBIDDEN, 'Your role does not allow this', { permission });
  }
  return tenantId;
}

/** The signed-in user, for operations on one's own account. */
export function requireUser(context: ForwardedContext): { userId: string; sessionId: string } {
  if (context.actor.kind !== 'user') throw clientError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  return { userId: context.actor.userId, sessionId: context.actor.sessionId };
}

/**
 * The registry's decision on `operation` (the same the gateway and the field directive took), then
 * the workspace it acts in.
 */
export function authorize(context: ForwardedContext, operation: WorkspaceOperation): string {
  const denial = checkFieldAccess(fieldPolicy[operation], operation, context);
  if (denial !== null) throw denialError(denial);
  return requireTenant(context);
}

/**
 * The registry's decision on a portfolio `operation`, then what `DataAccess.inPortfolio` needs: the
 * portfolio, and the permission the field demands in each client workspace (its
 * `@requiresPermission`, so the directive and the per-client check cannot drift apart).
 */
export function authorizePortfolio(
  context: ForwardedContext,
  operation: PortfolioOperation,
): { access: PortfolioAccess; permission: Permission } {
  const policy: FieldPolicy = fieldPolicy[operation];
  const denial = checkFieldAccess(policy, operation, context);
  if (denial !== null) throw denialError(denial);
  // Both hold once the policy passed and compose accepted the field; failing closed costs nothing.
  if (context.access.kind !== 'portfolio' || policy.permission === undefined) {
    throw new Error(`${operation} is not a portfolio field with a permission`);
  }
  return { access: context.access, permission: policy.permission };
}

export function denialError(denial: Denial): GraphQLError {
  return clientError(denial.code, denial.message, denial.extensions);
}

/**
 * Sensitive actions (creating API keys, reading unmasked AHV numbers, exporting the audit trail)
 * need a person who passed a second factor within `windowMs`, not just any session.
 */
export function requireRecentMfa(context: ForwardedContext, now: number, windowMs: number): void {
  if (context.actor.kind !== 'user' || context.mfaAt === null || now - context.mfaAt * 1000 > windowMs) {
    throw clientError(ErrorCode.FORBIDDEN, 'Confirm with your second factor first', { reason: 'MFA_STEP_UP_REQUIRED' });
  }
}
