import type { FieldPolicy } from '@numezis/schema';
import type { ForwardedContext } from '../context/signed-context.ts';
import { ErrorCode } from '../errors.ts';
import { roleAtLeast } from './roles.ts';

/** Why a field was refused: the client-facing error, the same wherever the decision is taken. */
export interface Denial {
  readonly code: typeof ErrorCode.UNAUTHENTICATED | typeof ErrorCode.FORBIDDEN;
  readonly message: string;
  readonly extensions: Readonly<Record<string, string>>;
}

const deny = (code: Denial['code'], message: string, extensions: Readonly<Record<string, string>> = {}): Denial => ({
  code,
  message,
  extensions,
});

const signInFirst = deny(ErrorCode.UNAUTHENTICATED, 'Sign in first');
const mfaFirst = deny(ErrorCode.FORBIDDEN, 'This workspace requires multi-factor authentication: enrol first', {
  reason: 'MFA_REQUIRED',
});

/**
 * The one decision on a field's access directives, taken by the gateway before it plans a query and
 * by each subgraph again before a resolver runs. `coordinate` is `Type.field`; a missing policy on a
 * root field is refused (default deny), on any other field it means the field has no directive.
 */
export function checkFieldAccess(
  policy: FieldPolicy | undefined,
  coordinate: string,
  context: ForwardedContext,
): Denial | null {
  const { access } = context;
  if (policy === undefined) {
    return /^(Query|Mutation|Subscription)\./.test(coordinate)
      ? deny(ErrorCode.FORBIDDEN, 'This operation has no access policy', { reason: 'NO_POLICY' })
      : null;
  }
  if (policy.scope === 'public') return null;
  if (access.kind === 'anonymous') return signInFirst;
  if (access.kind === 'portfolio' && policy.scope !== 'portfolio' && !coordinate.startsWith('Query.')) {
    return deny(ErrorCode.FORBIDDEN, 'Portfolio mode only reads: choose one workspace to act in', {
      reason: 'PORTFOLIO_READ_ONLY',
    });
  }
  switch (policy.scope) {
    case 'signed-in':
      return context.actor.kind === 'user' ? null : signInFirst;
    case 'portfolio':
      if (access.kind !== 'portfolio') {
        return deny(ErrorCode.FORBIDDEN, 'This field reads across a portfolio: ask in portfolio mode', {
          reason: 'PORTFOLIO_ONLY',
        });
      }
      // The permission is checked per client workspace by the resolver, which skips the others.
      return context.mfaRequired ? mfaFirst : null;
    case 'tenant': {
      if (access.kind === 'portfolio') {
        return deny(ErrorCode.FORBIDDEN, 'Not available in portfolio mode: choose one workspace to act in', {
          reason: 'PORTFOLIO_READ_ONLY',
        });
      }
      if (access.kind !== 'tenant') {
        return deny(ErrorCode.UNAUTHENTICATED, 'This operation needs an active workspace');
      }
      if (context.mfaRequired) return mfaFirst;
      if (policy.permission !== undefined && !access.permissions.includes(policy.permission)) {
        return deny(ErrorCode.FORBIDDEN, 'Your role does not allow this', { permission: policy.permission });
      }
      if (policy.role !== undefined && !roleAtLeast(access.role, policy.role)) {
        return deny(ErrorCode.FORBIDDEN, 'Your role does not allow this', { requiredRole: policy.role });
      }
      return null;
    }
  }
}
