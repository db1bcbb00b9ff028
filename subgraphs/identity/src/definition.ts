import { defineApolloSubgraph, openRedisState } from '@numezis/runtime';
import type { Clock, SubgraphDefinition } from '@numezis/runtime';
import { createSharedStateThrottle, createThrottle } from './auth/throttle.ts';
import type { Throttle } from './auth/throttle.ts';
import type { IdentitySettings } from './config.ts';
import { sessionCookieChannel } from './context.ts';
import type { IdentityContext } from './context.ts';
import { loadServiceSecretBox } from './crypto/service-key.ts';
import type { ServiceSecretBox } from './crypto/service-key.ts';
import { purgeExpiredJob } from './jobs/purge-expired.ts';
import { createLoaders } from './loaders.ts';
import { fileOutbox } from './mail/outbox.ts';
import type { Mailer } from './mail/outbox.ts';
import { smtpMailer } from './mail/smtp.ts';
import * as files from './paths.ts';
import { identityResolvers } from './resolvers/index.ts';
import { registerApiKeyResolution, registerSessionResolution } from './sessions/internal-route.ts';

export const identitySubgraph = { name: 'identity', defaultPort: 4001, defaultDataDir: files.defaultDataDir };

export function createIdentitySubgraph(
  settings: IdentitySettings,
  clock: Clock,
  mailer: Mailer = settings.mail.kind === 'smtp'
    ? smtpMailer(settings.mail)
    : fileOutbox(settings.mail.dir, () => clock.now()),
): SubgraphDefinition {
  return defineApolloSubgraph<IdentityContext, { secretBox: ServiceSecretBox; throttle: Throttle }>({
    ...identitySubgraph,
    files,
    async prepare({ dataAccess, encryption }, app) {
      // The service key is unwrapped once, at start, with the KMS that wraps the workspace keys.
      const secretBox = await loadServiceSecretBox({ dataAccess, kms: encryption.kms, clock });
      if (settings.throttle.redisUrl === null) return { secretBox, throttle: createThrottle(dataAccess, clock) };
      const redis = await openRedisState(settings.throttle.redisUrl, 'identity');
      app.addHook('onClose', () => redis.close());
      return { secretBox, throttle: createSharedStateThrottle(redis) };
    },
    resolvers: ({ dataAccess }, { secretBox, throttle }) =>
      identityResolvers({ dataAccess, settings, mailer, clock, throttle, secretBox }),
    context: ({ dataAccess }, forwarded, { reply }) => ({
      forwarded,
      loaders: createLoaders(dataAccess, forwarded),
      session: sessionCookieChannel(reply),
    }),
    routes: (app, { dataAccess }) => {
      registerSessionResolution(app, { dataAccess, clock, policy: settings.sessionPolicy });
      registerApiKeyResolution(app, { dataAccess, clock });
    },
    jobs: [purgeExpiredJob({ clock, throttleWindowMs: settings.throttle.perAccount.windowMs })],
  });
}
