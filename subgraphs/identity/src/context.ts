import type { FastifyReply } from 'fastify';
import type { Clock, DataAccess, SubgraphContext } from '@numezis/runtime';
import type { Throttle } from './auth/throttle.ts';
import type { IdentitySettings } from './config.ts';
import type { ServiceSecretBox } from './crypto/service-key.ts';
import type { Loaders } from './loaders.ts';
import type { Mailer } from './mail/outbox.ts';

export interface IdentityContext extends SubgraphContext {
  readonly loaders: Loaders;
  /** Tells the gateway to set or clear the caller's session cookie. */
  readonly session: SessionCookieChannel;
}

export interface IdentityDependencies {
  readonly dataAccess: DataAccess;
  readonly settings: IdentitySettings;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly throttle: Throttle;
  /** Seals per-user secrets (TOTP, passkey keys) with the identity service key. */
  readonly secretBox: ServiceSecretBox;
}

/**
 * Identity answers the gateway, never the browser: a new session token travels back in a response
 * header that only the gateway reads and turns into an HttpOnly cookie.
 */
export const sessionHeader = 'x-numezis-session';

export interface SessionCookieChannel {
  set(token: string, maxAgeSeconds: number): void;
  clear(): void;
}

export function sessionCookieChannel(reply: FastifyReply): SessionCookieChannel {
  return {
    set: (token, maxAgeSeconds) => {
      reply.header(sessionHeader, `set ${token} ${maxAgeSeconds}`);
    },
    clear: () => {
      reply.header(sessionHeader, 'clear');
    },
  };
}
