import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import {
  auditChange,
  authorize,
  clientError,
  ErrorCode,
  isUuid,
  requiredText,
  requireRecentMfa,
  holdsRoleAtLeast,
} from '@numezis/runtime';
import type { Role } from '@numezis/runtime';
import { isoOrNull, target } from '../audit.ts';
import { hashToken, newApiKey } from '../auth/tokens.ts';
import type { IdentityContext, IdentityDependencies } from '../context.ts';
import { apiKeys } from '../tables.ts';
import type { ApiKeyRow } from '../tables.ts';

interface CreateApiKeyArgs {
  input: { name: string; role: Role };
}

export function apiKeyResolvers({ dataAccess, settings, clock }: IdentityDependencies) {
  return {
    Query: {
      apiKeys: (_: unknown, __: unknown, context: IdentityContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.apiKeys'), (tx) =>
          tx.select().from(apiKeys).where(isNull(apiKeys.revokedAt)).orderBy(desc(apiKeys.createdAt)),
        ),
    },
    Mutation: {
      createApiKey: async (_: unknown, { input }: CreateApiKeyArgs, context: IdentityContext) => {
        const { forwarded } = context;
        const tenantId = authorize(forwarded, 'Mutation.createApiKey');
        requireRecentMfa(forwarded, clock.now(), settings.recentMfaMs);
        const name = requiredText(input.name, 'name', 100);
        // A key never holds more than the person who made it.
        if (!holdsRoleAtLeast(forwarded.access, input.role)) {
          throw clientError(ErrorCode.FORBIDDEN, 'A key cannot hold a higher role than yours');
        }
        const secret = newApiKey();
        const createdBy = forwarded.actor.kind === 'user' ? forwarded.actor.userId : '';
        const apiKey = await dataAccess.inTenant(tenantId, async (tx) => {
          const [row] = await tx
            .insert(apiKeys)
            .values({
              tenantId,
              id: randomUUID(),
              name,
              role: input.role,
              tokenHash: hashToken(secret),
              hint: secret.slice(0, 8),
              createdBy,
              createdAt: new Date(clock.now()),
            })
            .returning();
          if (row === undefined) throw new Error('API key insert returned no row');
          // Name and role only: the key, its hash and even its hint stay out of the trail.
          await auditChange(tx, {
            targets: [target('ApiKey', row.id)],
            before: null,
            after: { name: row.name, role: row.role },
          });
          return row;
        });
        // The only time the key is ever shown.
        return { apiKey, secret };
      },
      revokeApiKey: async (_: unknown, { id }: { id: string }, context: IdentityContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.revokeApiKey');
        const revoked = isUuid(id)
          ? await dataAccess.inTenant(tenantId, async (tx) => {
              const [row] = await tx
                .update(apiKeys)
                .set({ revokedAt: new Date(clock.now()) })
                .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
                .returning({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, revokedAt: apiKeys.revokedAt });
              if (row === undefined) return [];
              await auditChange(tx, {
                targets: [target('ApiKey', row.id)],
                before: { name: row.name, role: row.role, revokedAt: null },
                after: { name: row.name, role: row.role, revokedAt: isoOrNull(row.revokedAt) },
              });
              return [row];
            })
          : [];
        if (revoked.length === 0) throw clientError(ErrorCode.NOT_FOUND, 'API key not found');
        return true;
      },
    },
    ApiKey: {
      createdAt: (key: ApiKeyRow) => key.createdAt.toISOString(),
      lastUsedAt: (key: ApiKeyRow) => key.lastUsedAt?.toISOString() ?? null,
    },
  };
}
