import { readFile } from 'node:fs/promises';
import { mercuriusFederationPlugin } from '@mercuriusjs/federation';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { MercuriusOptions } from 'mercurius';
import { withAccessDirectives } from '@numezis/schema';
import {
  accessDirectivesTransformer,
  auditIngestPath,
  createAccessDenials,
  forwardedContextOf,
  memoryPubSub,
  openRedisPubSub,
} from '@numezis/runtime';
import type { Clock, SubgraphDefinition } from '@numezis/runtime';
import { createCheckpointSigner } from './chain/checkpoint-signer.ts';
import type { AuditSettings } from './config.ts';
import { createAuditFeed } from './feed/audit-feed.ts';
import type { AuditFeed } from './feed/audit-feed.ts';
import { registerIngestRoute } from './ingest-route.ts';
import { createLoaders } from './loaders.ts';
import { maskingErrorFormatter } from './masking-error-formatter.ts';
import { defaultDataDir, migrationsDir, schemaFile } from './paths.ts';
import { auditResolvers } from './resolvers.ts';
import type { AuditContext } from './resolvers.ts';
import { purgeJob } from './retention/purge-job.ts';
import { appendEvents } from './store/append.ts';
import type { ChainSettings } from './store/append.ts';
import { eventView } from './store/event-view.ts';
import type { AuditEventRow } from './tables.ts';

type FederationOptions = Omit<MercuriusOptions, 'schema'> & { schema: string };
// @mercuriusjs/federation declares its plugin without Fastify's plugin signature.
const federationPlugin = mercuriusFederationPlugin as unknown as FastifyPluginAsync<FederationOptions>;

export const auditSubgraph = { name: 'audit', defaultPort: 4004, defaultDataDir };

export function createAuditSubgraph(settings: AuditSettings, clock: Clock): SubgraphDefinition {
  const signer = createCheckpointSigner(settings.checkpointKey, settings.olderCheckpointKeys);
  const chain: ChainSettings = {
    signer,
    clock,
    checkpointEvery: settings.checkpointEvery,
    checkpointIntervalMs: settings.checkpointIntervalMs,
  };
  // Made when the service mounts (it may connect to Redis); the purge job publishes through it too.
  let feed: AuditFeed | undefined;
  const publish = async (tenantId: string, rows: readonly AuditEventRow[]) => {
    await feed?.publish(tenantId, rows.map(eventView));
  };
  return {
    ...auditSubgraph,
    migrationsDir,
    ownAuthenticationPaths: [auditIngestPath],
    jobs: [purgeJob(chain, settings.purgeIntervalMs, publish)],
    async mountGraphQL(app, { dataAccess, config }) {
      const pubsub = settings.redisUrl === null ? memoryPubSub() : await openRedisPubSub(settings.redisUrl, 'audit');
      app.addHook('onClose', () => pubsub.close());
      feed = createAuditFeed(pubsub, app.log);
      registerIngestRoute(app, config.auditIngest.token, async (events) => {
        const appended = await appendEvents(dataAccess, events, chain);
        let total = 0;
        for (const [tenantId, rows] of appended) {
          total += rows.length;
          await publish(tenantId, rows);
        }
        return total;
      });
      const contextOf = (request: FastifyRequest): AuditContext => {
        const forwarded = forwardedContextOf(request);
        return { forwarded, loaders: createLoaders(dataAccess, forwarded) };
      };
      await app.register(federationPlugin, {
        schema: withAccessDirectives(await readFile(schemaFile, 'utf8')),
        // Through @mercuriusjs/federation, which keeps entity `resolveReference` across the transform.
        schemaTransforms: [accessDirectivesTransformer(createAccessDenials(app.log, 'audit'))],
        resolvers: auditResolvers({
          dataAccess,
          signer,
          feed,
          exportMaxEvents: settings.exportMaxEvents,
          subscriptionBufferEvents: settings.subscriptionBufferEvents,
        }) as unknown as NonNullable<MercuriusOptions['resolvers']>,
        path: '/graphql',
        graphiql: false,
        context: contextOf,
        // The upgrade request passed the same gateway-signature check as every other request.
        subscription: { context: (_socket: unknown, request: FastifyRequest) => contextOf(request) },
        errorFormatter: maskingErrorFormatter(app.log) as NonNullable<MercuriusOptions['errorFormatter']>,
      });
    },
  };
}
