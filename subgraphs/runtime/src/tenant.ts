import type { ForwardedContext } from './context/signed-context.ts';
import { clientError, ErrorCode } from './errors.ts';

/** The workspace a tenant-scoped field acts in; refuses a request that acts in none. */
export function requireTenant(context: ForwardedContext): string {
  if (context.tenantId === null) {
    throw clientError(ErrorCode.UNAUTHENTICATED, 'This operation needs an active workspace');
  }
  return context.tenantId;
}
