import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  OperationTypeNode,
} from 'graphql';
import type { FastifyInstance } from 'fastify';
import { errorBody, ErrorCode } from '@numezis/runtime/errors';
import type {
  FieldNode,
  GraphQLCompositeType,
  GraphQLField,
  GraphQLFormattedError,
  GraphQLType,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';

/**
 * What one operation may ask for, checked before any planning or resolver runs. The cost is an
 * estimate of the fields a response can hold: one per field, times the size of every list around
 * it (a literal `first` up to `maxListSize`, a variable `first` as `maxListSize`, any other list as
 * `defaultListSize`).
 */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly maxCost: number;
  readonly maxDocumentBytes: number;
  readonly defaultListSize: number;
  readonly maxListSize: number;
}

export const defaultOperationLimits: OperationLimits = {
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 30,
  maxTokens: 5_000,
  maxCost: 50_000,
  maxDocumentBytes: 32 * 1024,
  defaultListSize: 50,
  // The subgraphs clamp page sizes at 200 whatever a client asks.
  maxListSize: 200,
};

export const limitKinds = ['depth', 'aliases', 'directives', 'tokens', 'cost', 'size'] as const;
export type LimitKind = (typeof limitKinds)[number];

export const operationLimitCode = ErrorCode.OPERATION_LIMIT_EXCEEDED;

/**
 * The refusal: which limit, never its value, unless `reveal` (development), so a caller cannot
 * probe for the largest operation that still passes.
 */
export function limitError(kind: LimitKind, reveal: boolean, detail: string): GraphQLError {
  return new GraphQLError(
    reveal ? `The operation exceeds the ${kind} limit: ${detail}` : `The operation exceeds the ${kind} limit`,
    { extensions: { code: operationLimitCode, limit: kind } },
  );
}

interface Measure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

function listSize(field: FieldNode, type: GraphQLType, limits: OperationLimits): number {
  let size = 1;
  // Nested lists multiply: [[Entry]] is a list of lists.
  for (let current = getNullableType(type); isListType(current); current = getNullableType(current.ofType)) {
    const first = field.arguments?.find((argument) => argument.name.value === 'first')?.value;
    const asked =
      first?.kind === Kind.INT
        ? Math.min(Number(first.value), limits.maxListSize)
        : first?.kind === Kind.VARIABLE
          ? limits.maxListSize
          : limits.defaultListSize;
    size *= Math.max(asked, 1);
  }
  return size;
}

function fieldOf(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  // A union has no fields of its own (only __typename, a leaf).
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

/** Depth, aliases, directives and cost of a selection set, fragments expanded (each once per path). */
function measure(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType | undefined,
  limits: OperationLimits,
  depth: number,
  multiplier: number,
  path: ReadonlySet<string>,
  total: Measure,
): void {
  for (const selection of selectionSet.selections) {
    total.directives += selection.directives?.length ?? 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias !== undefined) total.aliases++;
      total.depth = Math.max(total.depth, depth);
      total.cost += multiplier;
      const definition = parent === undefined ? undefined : fieldOf(parent, selection.name.value);
      if (selection.selectionSet === undefined) continue;
      const size = definition === undefined ? 1 : listSize(selection, definition.type, limits);
      const child = definition === undefined ? undefined : getNamedType(definition.type);
      measure(
        context,
        selection.selectionSet,
        child !== undefined && isCompositeType(child) ? child : undefined,
        limits,
        depth + 1,
        multiplier * size,
        path,
        total,
      );
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition?.name.value;
      const type = condition === undefined ? parent : context.getSchema().getType(condition);
      const next = type !== undefined && type !== null && isCompositeType(type) ? type : undefined;
      measure(context, selection.selectionSet, next, limits, depth, multiplier, path, total);
    } else {
      const name = selection.name.value;
      // A cycle is refused by the standard rules; here it only must not recurse forever.
      if (path.has(name)) continue;
      const fragment = context.getFragment(name);
      if (fragment === undefined || fragment === null) continue;
      const type = context.getSchema().getType(fragment.typeCondition.name.value);
      const next = type !== undefined && type !== null && isCompositeType(type) ? type : undefined;
      measure(context, fragment.selectionSet, next, limits, depth, multiplier, new Set([...path, name]), total);
    }
  }
}

/** The validation rule that refuses an operation over its depth, alias, directive or cost limit. */
export function operationLimitsRule(limits: OperationLimits, reveal: boolean): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const root =
        operation.operation === OperationTypeNode.QUERY
          ? context.getSchema().getQueryType()
          : operation.operation === OperationTypeNode.MUTATION
            ? context.getSchema().getMutationType()
            : context.getSchema().getSubscriptionType();
      const total: Measure = { depth: 0, aliases: 0, directives: operation.directives?.length ?? 0, cost: 0 };
      measure(context, operation.selectionSet, root ?? undefined, limits, 1, 1, new Set(), total);
      const checks: [LimitKind, number, number][] = [
        ['depth', total.depth, limits.maxDepth],
        ['aliases', total.aliases, limits.maxAliases],
        ['directives', total.directives, limits.maxDirectives],
        ['cost', total.cost, limits.maxCost],
      ];
      for (const [kind, value, limit] of checks) {
        if (value > limit) context.reportError(limitError(kind, reveal, `${value} > ${limit}`));
      }
    },
  });
}

/**
 * Apollo reports validation-rule errors as GRAPHQL_VALIDATION_FAILED and graphql-js's own token
 * limit as a parse failure naming the limit; both leave here as OPERATION_LIMIT_EXCEEDED, naming
 * the limit only (its value only when `reveal`).
 */
export function limitFormatError(reveal: boolean): (formatted: GraphQLFormattedError) => GraphQLFormattedError {
  return (formatted) => {
    const limit = formatted.extensions?.limit;
    if (typeof limit === 'string' && (limitKinds as readonly string[]).includes(limit)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: operationLimitCode } };
    }
    const tokens = /^Syntax Error: Document contains more th(?:an|at) (\d+) tokens/.exec(formatted.message);
    if (tokens === null) return formatted;
    const error = limitError('tokens', reveal, `more than ${tokens[1]}`);
    return { ...formatted, message: error.message, extensions: { ...formatted.extensions, ...error.extensions } };
  };
}

/**
 * The document's size, before it is even parsed: 413 with the limit's name. The body limit stops
 * larger bodies earlier still; this one is for the GraphQL text itself, by POST or GET.
 */
export function registerDocumentSizeLimit(app: FastifyInstance, limits: OperationLimits, reveal: boolean): void {
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const source = request.method === 'GET' ? request.query : request.body;
    const query = typeof source === 'object' && source !== null ? (source as { query?: unknown }).query : undefined;
    if (typeof query !== 'string') return;
    const bytes = Buffer.byteLength(query);
    if (bytes <= limits.maxDocumentBytes) return;
    const error = limitError('size', reveal, `${bytes} bytes > ${limits.maxDocumentBytes}`);
    return reply
      .status(413)
      .send(errorBody(ErrorCode.OPERATION_LIMIT_EXCEEDED, error.message, request.id, { limit: 'size' }));
  });
}

/**
 * A `/graphql` body announced larger than the limit is refused with 413 before it is parsed, and the
 * rest of it is read and dropped rather than left in the socket: Fastify's own refusal closes the
 * connection with the body unread, which resets it under a client still sending, so the client
 * sees a broken pipe instead of the answer. The request timeout bounds how long a sender may go on.
 */
export function registerBodyLimit(app: FastifyInstance, bodyLimitBytes: number): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (!(declared > bodyLimitBytes)) return;
    request.raw.resume();
    return reply.status(413).send(errorBody(ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large', request.id));
  });
}
