import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './request-context.ts';
import { clearSessionCookie, setSessionCookie } from './session-cookie.ts';

/**
 * Applies identity's session instructions to the client response as a cookie, and clears a cookie
 * that no longer names a usable session.
 */
export function sessionCookiePlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const instruction = contextValue.outgoingSession.instruction;
          if (instruction?.kind === 'set') {
            response.http.headers.set('set-cookie', setSessionCookie(instruction.token, instruction.maxAgeSeconds));
          } else if (instruction?.kind === 'clear' || contextValue.staleSession) {
            response.http.headers.set('set-cookie', clearSessionCookie());
          }
          if (instruction !== null) response.http.headers.set('cache-control', 'no-store');
        },
      };
    },
  };
}
