import { createHash } from 'node:crypto';
import {
  getDirectiveValues,
  getVariableValues,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isNonNullType,
  Kind,
  print,
  visit,
} from 'graphql';
import type {
  DocumentNode,
  ExecutionResult,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLObjectType,
  InlineFragmentNode,
  OperationDefinitionNode,
  SelectionNode,
  SelectionSetNode,
} from 'graphql';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { checkFieldAccess } from '@numezis/runtime/policy/field-access';
import { fieldPolicy } from '@numezis/runtime/policy/operations';
import { denialError } from '@numezis/runtime/tenant';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { Denial } from '@numezis/runtime/policy/field-access';
import type { AccessDenials } from '@numezis/runtime/security/access-denials';
import { refusingSubscriptionsOverHttp } from './subscriptions/subscriptions-over-http.ts';

type FieldPolicy = NonNullable<Parameters<typeof checkFieldAccess>[0]>;

/** `Type.field` to its access policy, as `npm run compose` generates it. */
export type PolicyRegistry = Readonly<Record<string, FieldPolicy | undefined>>;

/** One response key of the operation's root selection, with every field node that answers it. */
export interface RootField {
  readonly responseKey: string;
  readonly fieldName: string;
  readonly nodes: readonly FieldNode[];
}

export interface Refusal {
  readonly field: RootField;
  /** `Query.accounts`, `Mutation.createAccount`, ... */
  readonly coordinate: string;
  readonly denial: Denial;
}

const responseKeyOf = (field: FieldNode): string => field.alias?.value ?? field.name.value;

function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

function isIncluded(node: SelectionNode, variables: Readonly<Record<string, unknown>>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/**
 * The root fields the operation would execute, in the order execution answers them: graphql-js's
 * field collection at root level (fragments flattened, `@skip`/`@include` applied with the coerced
 * variables, a fragment spread counted once).
 */
export function collectRootFields(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): RootField[] {
  const fragments = fragmentsOf(document);
  const byKey = new Map<string, { fieldName: string; nodes: FieldNode[] }>();
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (!isIncluded(selection, variables)) continue;
      switch (selection.kind) {
        case Kind.FIELD: {
          const key = responseKeyOf(selection);
          const existing = byKey.get(key);
          if (existing === undefined) byKey.set(key, { fieldName: selection.name.value, nodes: [selection] });
          else existing.nodes.push(selection);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          collect(selection.selectionSet);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (visited.has(name)) break;
          visited.add(name);
          const definition = fragments.get(name);
          if (definition !== undefined) collect(definition.selectionSet);
          break;
        }
      }
    }
  };
  collect(operation.selectionSet);
  return [...byKey].map(([responseKey, { fieldName, nodes }]) => ({ responseKey, fieldName, nodes }));
}

/**
 * The registry's decision on each root field. Meta fields (`__typename`, and `__schema`/`__type`,
 * which the `introspection` setting governs) carry no policy and are always answered.
 */
export function refusalsOf(
  fields: readonly RootField[],
  rootTypeName: string,
  context: ForwardedContext,
  registry: PolicyRegistry,
): Refusal[] {
  return fields.flatMap((field) => {
    if (field.fieldName.startsWith('__')) return [];
    const coordinate = `${rootTypeName}.${field.fieldName}`;
    const denial = checkFieldAccess(registry[coordinate], coordinate, context);
    return denial === null ? [] : [{ field, coordinate, denial }];
  });
}

const sameSelections = (kept: readonly SelectionNode[], original: readonly SelectionNode[]): boolean =>
  kept.length === original.length && kept.every((selection, index) => selection === original[index]);

/**
 * The operation without the root fields answering `refused` response keys, as a document of its own
 * that still validates: a root fragment spread whose fragment lost fields becomes an inline fragment
 * (the definition may also be spread below the root, where nothing is refused), emptied fragments
 * go, and so do the other operations and the fragment and variable definitions nothing uses any more.
 */
export function withoutRootFields(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  refused: ReadonlySet<string>,
): { document: DocumentNode; operation: OperationDefinitionNode } {
  const fragments = fragmentsOf(document);
  const filter = (selectionSet: SelectionSetNode): SelectionNode[] =>
    selectionSet.selections.flatMap((selection): SelectionNode[] => {
      switch (selection.kind) {
        case Kind.FIELD:
          return refused.has(responseKeyOf(selection)) ? [] : [selection];
        case Kind.INLINE_FRAGMENT: {
          const kept = filter(selection.selectionSet);
          if (kept.length === 0) return [];
          if (sameSelections(kept, selection.selectionSet.selections)) return [selection];
          return [{ ...selection, selectionSet: { ...selection.selectionSet, selections: kept } }];
        }
        case Kind.FRAGMENT_SPREAD: {
          const definition = fragments.get(selection.name.value);
          // Validation already refused a spread of an unknown fragment; the gateway reports it as before.
          if (definition === undefined) return [selection];
          const kept = filter(definition.selectionSet);
          if (kept.length === 0) return [];
          if (sameSelections(kept, definition.selectionSet.selections)) return [selection];
          const inline: InlineFragmentNode = {
            kind: Kind.INLINE_FRAGMENT,
            typeCondition: definition.typeCondition,
            ...(selection.directives === undefined ? {} : { directives: selection.directives }),
            selectionSet: { kind: Kind.SELECTION_SET, selections: kept },
          };
          return [inline];
        }
      }
    });

  const selections = filter(operation.selectionSet);
  const withSelections: OperationDefinitionNode = {
    ...operation,
    selectionSet: { ...operation.selectionSet, selections },
  };

  // Fragments used by what is left, transitively.
  const used = new Set<string>();
  const pending: { selectionSet: SelectionSetNode }[] = [withSelections];
  const usedFragments: FragmentDefinitionNode[] = [];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === undefined) break;
    visit(node.selectionSet, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const definition = fragments.get(name);
        if (used.has(name) || definition === undefined) return;
        used.add(name);
        pending.push(definition);
      },
    });
  }
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && used.has(definition.name.value)) usedFragments.push(definition);
  }

  // Variables used by what is left; an unused variable definition would make the document invalid.
  const usedVariables = new Set<string>();
  const noteVariables = {
    Variable: (variable: { name: { value: string } }) => void usedVariables.add(variable.name.value),
  };
  visit(withSelections.selectionSet, noteVariables);
  for (const directive of withSelections.directives ?? []) visit(directive, noteVariables);
  for (const definition of usedFragments) visit(definition, noteVariables);
  const variableDefinitions = operation.variableDefinitions?.filter((definition) =>
    usedVariables.has(definition.variable.name.value),
  );
  const rewritten: OperationDefinitionNode = {
    ...withSelections,
    ...(variableDefinitions === undefined ? {} : { variableDefinitions }),
  };
  return { document: { kind: Kind.DOCUMENT, definitions: [rewritten, ...usedFragments] }, operation: rewritten };
}

/** The client-facing error of a refusal, where execution would have put it. */
export function refusalError(refusal: Refusal): GraphQLError {
  const error = denialError(refusal.denial);
  return new GraphQLError(error.message, {
    nodes: refusal.field.nodes,
    path: [refusal.field.responseKey],
    extensions: error.extensions,
  });
}

/** True when refusing one of these fields nulls the whole `data`, as a field error on a non-null root field does. */
export function refusalNullsData(refusals: readonly Refusal[], rootType: GraphQLObjectType): boolean {
  const fields = rootType.getFields();
  return refusals.some((refusal) => {
    const field = fields[refusal.field.fieldName];
    return field !== undefined && isNonNullType(field.type);
  });
}

/**
 * The answer the client would have had if the refused fields had executed and failed: every response
 * key in execution order, `null` where refused (or `data: null` when a refused field is non-null),
 * and the errors in the order of their root field. `executed` is null when nothing was left to run.
 */
export function mergeRefusals(options: {
  fields: readonly RootField[];
  refusals: readonly Refusal[];
  nullsData: boolean;
  executed: ExecutionResult | null;
}): ExecutionResult {
  const { fields, refusals, nullsData, executed } = options;
  const position = new Map(fields.map((field, index) => [field.responseKey, index]));
  const rank = (error: GraphQLError): number => {
    const key = error.path?.[0];
    return (typeof key === 'string' ? position.get(key) : undefined) ?? Number.POSITIVE_INFINITY;
  };
  const errors = [...refusals.map(refusalError), ...(executed?.errors ?? [])].sort((a, b) => rank(a) - rank(b));
  // No data at all means the remainder failed as a request (nothing executed): the refusals join its errors.
  if (executed !== null && executed.data === undefined) return { ...executed, errors };

  const refusedKeys = new Set(refusals.map((refusal) => refusal.field.responseKey));
  const executedData = executed?.data;
  const data =
    nullsData || executedData === null
      ? null
      : Object.fromEntries(
          fields.map(({ responseKey }) => [
            responseKey,
            refusedKeys.has(responseKey) ? null : (executedData?.[responseKey] ?? null),
          ]),
        );
  return { ...(executed ?? {}), data, errors };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function forwardedOf(context: Readonly<Record<string, unknown>>): ForwardedContext {
  const forwarded = (context as { forwarded?: ForwardedContext }).forwarded;
  // The context function always builds one; without it there is nobody to decide for, so nothing runs.
  if (forwarded === undefined) throw new Error('gateway request without a forwarded context');
  return forwarded;
}

function refusingExecutor(
  execute: GatewayExecutor,
  options: { denials: AccessDenials; registry: PolicyRegistry },
): GatewayExecutor {
  return async (requestContext) => {
    const { operation, document, schema } = requestContext;
    const rootType = schema.getRootType(operation.operation);
    if (rootType === undefined || rootType === null) return execute(requestContext);
    const coerced = getVariableValues(
      schema,
      operation.variableDefinitions ?? [],
      requestContext.request.variables ?? {},
    );
    // Invalid variables: the gateway reports them exactly as it always has, and executes nothing.
    if (coerced.errors !== undefined) return execute(requestContext);

    const forwarded = forwardedOf(requestContext.context);
    const fields = collectRootFields(document, operation, coerced.coerced);
    const refusals = refusalsOf(fields, rootType.name, forwarded, options.registry);
    if (refusals.length === 0) return execute(requestContext);

    for (const { coordinate, denial } of refusals) {
      const reason = denial.extensions.reason ?? denial.extensions.permission ?? denial.extensions.requiredRole;
      options.denials.record({
        field: coordinate,
        code: denial.code,
        ...(reason === undefined ? {} : { reason }),
        context: forwarded,
      });
    }

    const refusedKeys = new Set(refusals.map((refusal) => refusal.field.responseKey));
    const allowed = fields.filter((field) => !refusedKeys.has(field.responseKey));
    let executed: ExecutionResult | null = null;
    if (allowed.length > 0) {
      executed = await execute(withoutRefused(requestContext, refusedKeys));
    }
    return mergeRefusals({ fields, refusals, nullsData: refusalNullsData(refusals, rootType), executed });
  };
}

/**
 * A new request context for the allowed remainder; the original stays as Apollo Server built it. The
 * gateway caches query plans by `queryHash`, so the remainder needs its own: under the original's
 * hash, the next caller sending the full operation would get the reduced plan.
 */
export function withoutRefused(
  requestContext: GatewayGraphQLRequestContext,
  refusedKeys: ReadonlySet<string>,
): GatewayGraphQLRequestContext {
  const { document, operation } = withoutRootFields(requestContext.document, requestContext.operation, refusedKeys);
  const source = print(document);
  return { ...requestContext, document, operation, source, queryHash: sha256(source) };
}

/**
 * The gateway's early refusal: wraps the ApolloGateway so that each operation's root fields are
 * decided from the field-to-policy registry before a query plan is made. @apollo/gateway enforces no
 * custom directive by itself; the subgraphs still decide again. A refused query field is null with
 * its error while the others answer; a refused mutation field never executes.
 * Every root field the registry does not name is refused (default deny).
 */
export function withEarlyRefusal(
  gateway: GatewayInterface,
  options: {
    denials: AccessDenials;
    registry?: PolicyRegistry;
  },
): GatewayInterface {
  const registry: PolicyRegistry = options.registry ?? fieldPolicy;
  const settings = { denials: options.denials, registry };
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      if (loaded.executor === null) return loaded;
      return { ...loaded, executor: refusingExecutor(refusingSubscriptionsOverHttp(loaded.executor), settings) };
    },
  };
}
