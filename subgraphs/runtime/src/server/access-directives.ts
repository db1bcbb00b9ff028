import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, getNamedType, GraphQLError, GraphQLID } from 'graphql';
import type { GraphQLFieldConfig, GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { rootTypes } from '@numezis/schema';
import type { FieldPolicy, FieldScope, PolicyRole } from '@numezis/schema';
import type { ForwardedContext } from '../context/signed-context.ts';
import { ErrorCode } from '../errors.ts';
import { checkFieldAccess } from '../policy/field-access.ts';
import { permissionFromEnum } from '../policy/roles.ts';
import type { AccessDenials } from '../security/access-denials.ts';
import { denialError } from '../tenant.ts';

// Federation's own entry points: only the gateway reaches them (signed context), and entity
// resolution checks the workspace in each `__resolveReference`.
const federationFields = new Set(['Query._entities', 'Query._service']);

const scopes: readonly [string, FieldScope][] = [
  ['public', 'public'],
  ['signedIn', 'signed-in'],
  ['tenantScoped', 'tenant'],
  ['portfolioScoped', 'portfolio'],
];

/** The field's policy as its own SDL directives state it; undefined when it carries none. */
function policyOf(schema: GraphQLSchema, field: GraphQLFieldConfig<unknown, unknown>): FieldPolicy | undefined {
  const present = scopes.filter(([directive]) => getDirective(schema, field, directive) !== undefined);
  const role = getDirective(schema, field, 'requiresRole')?.[0]?.role as PolicyRole | undefined;
  const permissionEnum = getDirective(schema, field, 'requiresPermission')?.[0]?.permission as string | undefined;
  const permission = permissionEnum === undefined ? null : permissionFromEnum(permissionEnum);
  if (present.length === 0 && role === undefined && permission === null) return undefined;
  // `npm run compose` refuses contradictory directives; a schema that still has them fails closed.
  if (present.length !== 1) throw new Error('a field must carry exactly one scope directive');
  return {
    subgraph: '',
    scope: present[0]?.[1] ?? 'tenant',
    ...(role === undefined ? {} : { role }),
    ...(permission === null ? {} : { permission }),
  };
}

function contextOf(context: unknown): ForwardedContext {
  const forwarded = (context as { forwarded?: ForwardedContext } | undefined)?.forwarded;
  // Every subgraph context carries the verified forwarded context; without it nothing resolves.
  if (forwarded === undefined) throw new Error('resolver context without a forwarded context');
  return forwarded;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof GraphQLError ? (error.extensions.code as string | undefined) : undefined;
}

/**
 * The subgraph's own enforcement of `@public`, `@signedIn`, `@tenantScoped`, `@portfolioScoped`,
 * `@requiresRole` and `@requiresPermission`: a `mapSchema` transformer that wraps each directed
 * field's resolver with the same decision the gateway takes. A root field without a scope decision
 * is refused (default deny). On root fields it also reports what looks like probing: refusals, and
 * misses of a by-id lookup.
 *
 * Apollo keeps `__resolveReference` in type extensions, which `mapSchema` preserves; mercurius keeps
 * it on the type object, so its transformers must go through `@mercuriusjs/federation`'s
 * `schemaTransforms`, which copies it over.
 */
export function accessDirectivesTransformer(denials: AccessDenials): (schema: GraphQLSchema) => GraphQLSchema {
  return (schema) =>
    mapSchema(schema, {
      [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
        const coordinate = `${typeName}.${fieldName}`;
        const isRoot = (rootTypes as readonly string[]).includes(typeName);
        if (federationFields.has(coordinate)) return field;
        const policy = policyOf(schema, field);
        if (policy === undefined && !isRoot) return field;
        const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
        const byId = Object.values(field.args ?? {}).some((argument) => getNamedType(argument.type) === GraphQLID);

        const guarded: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
          const forwarded = contextOf(context);
          const denial = checkFieldAccess(policy, coordinate, forwarded);
          if (denial !== null) {
            const reason = denial.extensions.reason ?? denial.extensions.permission ?? denial.extensions.requiredRole;
            denials.record({
              field: coordinate,
              code: denial.code,
              ...(reason === undefined ? {} : { reason }),
              context: forwarded,
            });
            throw denialError(denial);
          }
          if (!isRoot) return resolve(source, args, context, info);
          return watchOutcome(() => resolve(source, args, context, info), {
            onMiss:
              byId && typeName === 'Query'
                ? () => denials.record({ field: coordinate, code: 'NOT_FOUND', context: forwarded })
                : null,
            onRefusal: (code) => denials.record({ field: coordinate, code, context: forwarded }),
          });
        };
        return { ...field, resolve: guarded };
      },
    });
}

async function watchOutcome(
  run: () => unknown,
  on: { onMiss: (() => void) | null; onRefusal: (code: 'FORBIDDEN' | 'NOT_FOUND') => void },
): Promise<unknown> {
  try {
    const result = await run();
    if (result === null && on.onMiss !== null) on.onMiss();
    return result;
  } catch (error) {
    const code = codeOf(error);
    if (code === ErrorCode.FORBIDDEN || code === ErrorCode.NOT_FOUND) on.onRefusal(code);
    throw error;
  }
}
