import { randomBytes, randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { systemClock } from '../clock.ts';
import type { RuntimeEnvironment } from '../config/common.ts';
import type { Env } from '../config/reader.ts';
import { readSubgraphConfig } from '../config/subgraph.ts';
import {
  contextHeader,
  createContextSigner,
  generateContextKeyPair,
  parseSigningKey,
} from '../context/signed-context.ts';
import type { RequestAccess } from '../context/access-mode.ts';
import type { Actor, ForwardedContext } from '../context/signed-context.ts';
import { rolePermissions } from '../policy/roles.ts';
import type { Role } from '../policy/roles.ts';
import { createTestDatabases } from '../db/testing.ts';
import { createSubgraphService } from '../server/subgraph-service.ts';
import { systemAccess } from '../context/access-mode.ts';
import type { AuditEvent } from '../audit/event.ts';
import { auditRelayJobName, outboxTable } from '../audit/outbox.ts';
import { asc } from 'drizzle-orm';
import type { SubgraphDefinition } from '../server/subgraph-service.ts';

const anonymous: Actor = { kind: 'anonymous' };

export interface PostOptions {
  readonly variables?: Record<string, unknown>;
  readonly actor?: Actor;
  /** The actor's role in the tenant; ADMIN when a tenant is given and nothing else is said. */
  readonly role?: Role | null;
  readonly mfaRequired?: boolean;
  /** The access to sign instead of the one `tenantId` and `role` make (a portfolio, say). */
  readonly access?: RequestAccess;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface InProcessSubgraph {
  /** Posts an operation with a valid signed context for `tenantId`, as the gateway would. */
  post(tenantId: string | null, query: string, options?: PostOptions): Promise<GraphQLBody>;
  /** Any other request (a service route besides /graphql), signed the same way. */
  inject(
    tenantId: string | null,
    request: Omit<InjectOptions, 'headers'> & { readonly headers?: Record<string, string> },
    options?: PostOptions,
  ): Promise<LightMyRequestResponse>;
  /** The events waiting in the service's audit outbox, oldest first, read as its relay would. */
  auditOutbox(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

/**
 * A subgraph with its real database (PostgreSQL when DATABASE_URL is set, PGlite otherwise) and its
 * real HTTP app, driven in-process through Fastify's inject: for unit tests of resolvers and data
 * access that still go through signature checks, loaders and row-level security.
 */
export async function startInProcessSubgraph(
  definition: SubgraphDefinition,
  options: { env: Env; environment?: RuntimeEnvironment; onQuery?: (sql: string) => void },
): Promise<InProcessSubgraph> {
  const keys = generateContextKeyPair('test');
  const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });
  const databases = await createTestDatabases(options.env, [definition.name]);
  const config = readSubgraphConfig(
    {
      CONTEXT_VERIFY_KEYS: keys.verifyKey,
      LOG_LEVEL: 'warn',
      // A master key per test service: nothing is written beside the checkout.
      KMS_LOCAL_MASTER_KEY: options.env.KMS_LOCAL_MASTER_KEY ?? randomBytes(32).toString('base64url'),
    },
    definition,
  );
  const service = await createSubgraphService(
    definition,
    {
      ...config,
      environment: options.environment ?? config.environment,
      database: databases.settingsFor(definition.name),
    },
    options.onQuery === undefined ? {} : { onQuery: options.onQuery },
  );
  const signedFor = (tenantId: string | null, options: PostOptions): string => {
    const { mfaRequired = false } = options;
    const role = options.role === undefined ? (tenantId === null ? null : 'ADMIN') : options.role;
    const actor =
      options.actor ??
      (tenantId === null ? anonymous : { kind: 'user', userId: randomUUID(), sessionId: randomUUID() });
    const context: ForwardedContext = {
      requestId: randomUUID(),
      clientIp: '127.0.0.1',
      userAgent: 'unit-test',
      actor,
      access:
        options.access ??
        (actor.kind === 'anonymous'
          ? { kind: 'anonymous' }
          : tenantId === null || role === null
            ? { kind: 'account' }
            : { kind: 'tenant', tenantId, role, permissions: mfaRequired ? [] : rolePermissions[role] }),
      mfaAt: null,
      mfaRequired,
    };
    return signer.sign(context, definition.name);
  };
  return {
    async post(tenantId, query, options = {}) {
      const response = await service.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { [contextHeader]: signedFor(tenantId, options), 'content-type': 'application/json' },
        payload: { query, variables: options.variables ?? {} },
      });
      return response.json<GraphQLBody>();
    },
    inject(tenantId, request, options = {}) {
      return service.app.inject({
        ...request,
        headers: { ...request.headers, [contextHeader]: signedFor(tenantId, options) },
      });
    },
    auditOutbox() {
      const outbox = outboxTable(definition.name);
      return service.dataAccess.unsafeAsSystem(systemAccess(auditRelayJobName(definition.name)), async (tx) =>
        (await tx.select({ event: outbox.event }).from(outbox).orderBy(asc(outbox.position))).map((row) => row.event),
      );
    },
    async close() {
      await service.close();
      await databases.dispose();
    },
  };
}
