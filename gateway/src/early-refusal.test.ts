import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildSchema, execute, getOperationAST, parse, print, validate } from 'graphql';
import type { ExecutionResult, OperationDefinitionNode } from 'graphql';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { checkFieldAccess } from '@numezis/runtime/policy/field-access';
import { denialError } from '@numezis/runtime/tenant';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';
import type { AccessDenials, DeniedAttempt } from '@numezis/runtime/security/access-denials';
import { collectRootFields, mergeRefusals, refusalsOf, withEarlyRefusal, withoutRootFields } from './early-refusal.ts';
import type { PolicyRegistry } from './early-refusal.ts';

const schema = buildSchema(`
  type Query {
    accounts: [Account!]
    auditEvents: [Event!]
    me: String
    required: String!
  }
  type Mutation {
    createAccount(name: String!): Account!
    note(text: String): String
    signOut: Boolean!
  }
  type Account { id: ID! name: String }
  type Event { id: ID! }
`);

const registry: PolicyRegistry = {
  'Query.accounts': { subgraph: 'accounting', scope: 'tenant', permission: 'accounting.read' },
  'Query.auditEvents': { subgraph: 'audit', scope: 'tenant', permission: 'audit.read' },
  'Query.me': { subgraph: 'identity', scope: 'public' },
  'Query.required': { subgraph: 'audit', scope: 'tenant', permission: 'audit.read' },
  'Mutation.createAccount': { subgraph: 'accounting', scope: 'tenant', permission: 'accounting.write' },
  'Mutation.note': { subgraph: 'identity', scope: 'signed-in' },
  'Mutation.signOut': { subgraph: 'identity', scope: 'public' },
};

const viewer: ForwardedContext = {
  requestId: 'request-1',
  clientIp: '127.0.0.1',
  userAgent: null,
  actor: { kind: 'user', userId: 'user-1', sessionId: 'session-1' },
  access: { kind: 'tenant', tenantId: 'tenant-1', role: 'VIEWER', permissions: ['accounting.read'] },
  mfaAt: null,
  mfaRequired: false,
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function operationOf(query: string, operationName?: string): OperationDefinitionNode {
  const operation = getOperationAST(parse(query), operationName);
  assert.ok(operation);
  return operation;
}

interface Request {
  variables?: Record<string, unknown>;
  operationName?: string;
  context?: Record<string, unknown>;
}

/** What Apollo Server hands a gateway executor, for a document that passed validation. */
function requestContext(query: string, request: Request = {}): GatewayGraphQLRequestContext {
  const document = parse(query);
  assert.deepEqual(validate(schema, document), []);
  const operation = getOperationAST(document, request.operationName);
  assert.ok(operation);
  return {
    request: {
      query,
      ...(request.variables === undefined ? {} : { variables: request.variables }),
      ...(request.operationName === undefined ? {} : { operationName: request.operationName }),
    },
    schema,
    document,
    operation,
    source: query,
    queryHash: sha256(query),
    operationName: request.operationName ?? null,
    context: request.context ?? { forwarded: viewer },
    metrics: {},
  } as unknown as GatewayGraphQLRequestContext;
}

const rootData: Record<string, unknown> = {
  accounts: [{ id: 'a-1', name: 'Kasse' }],
  auditEvents: [{ id: 'e-1' }],
  me: 'Viewer',
  required: 'always',
  createAccount: { id: 'a-2', name: 'Bank' },
  note: 'noted',
  signOut: true,
};

/** Executes against the test schema, as the real gateway would against the subgraphs; notes what ran. */
function harness() {
  const seen: GatewayGraphQLRequestContext[] = [];
  const resolved: string[] = [];
  const records: DeniedAttempt[] = [];
  const rootValue = Object.fromEntries(
    Object.entries(rootData).map(([name, value]) => [
      name,
      () => {
        resolved.push(name);
        return value;
      },
    ]),
  );
  const inner: GatewayExecutor = async (context) => {
    seen.push(context);
    return execute({
      schema,
      document: context.document,
      rootValue,
      ...(context.request.variables === undefined ? {} : { variableValues: context.request.variables }),
      ...(context.request.operationName === undefined ? {} : { operationName: context.request.operationName }),
    }) as Promise<ExecutionResult>;
  };
  let stopped = false;
  const subscribers = new Set<unknown>();
  const gateway: GatewayInterface = {
    onSchemaLoadOrUpdate: (callback) => {
      subscribers.add(callback);
      return () => subscribers.delete(callback);
    },
    stop: async () => {
      stopped = true;
    },
    load: async () => ({ executor: inner }),
  };
  const denials: AccessDenials = { record: (attempt) => records.push(attempt), counts: () => new Map() };
  const wrapped = withEarlyRefusal(gateway, { denials, registry });
  return {
    seen,
    resolved,
    records,
    wrapped,
    stopped: () => stopped,
    subscribers,
    async run(query: string, request: Request = {}): Promise<ExecutionResult> {
      const { executor } = await wrapped.load({ apollo: {} });
      assert.ok(executor);
      return executor(requestContext(query, request));
    },
  };
}

/** The reference: plain GraphQL execution where each refused root field throws the same denial. */
async function executedWithResolverRefusals(query: string, request: Request = {}): Promise<unknown> {
  const rootValue = Object.fromEntries(
    Object.entries(rootData).map(([name, value]) => [
      name,
      () => {
        const type = name in schema.getQueryType()!.getFields() ? 'Query' : 'Mutation';
        const denial = checkFieldAccess(registry[`${type}.${name}`], `${type}.${name}`, viewer);
        if (denial !== null) throw denialError(denial);
        return value;
      },
    ]),
  );
  const result = await execute({
    schema,
    document: parse(query),
    rootValue,
    ...(request.variables === undefined ? {} : { variableValues: request.variables }),
  });
  return JSON.parse(JSON.stringify(result));
}

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('root field collection', () => {
  it('follows aliases, inline fragments and fragment spreads, in execution order, honouring @skip and @include', () => {
    const query = `
      query ($hide: Boolean!, $show: Boolean = true) {
        first: accounts { id }
        ... on Query { auditEvents { id } me @skip(if: $hide) }
        ...Rest
        ...Rest
        required @include(if: $show)
        first: accounts { name }
        __typename
      }
      fragment Rest on Query { second: accounts { id } ...Nested }
      fragment Nested on Query { me }
    `;
    const fields = collectRootFields(parse(query), operationOf(query), { hide: true, show: true });
    assert.deepEqual(
      fields.map((field) => [field.responseKey, field.fieldName, field.nodes.length]),
      [
        ['first', 'accounts', 2],
        ['auditEvents', 'auditEvents', 1],
        ['second', 'accounts', 1],
        ['me', 'me', 1],
        ['required', 'required', 1],
        ['__typename', '__typename', 1],
      ],
    );
    const hidden = collectRootFields(parse(query), operationOf(query), { hide: false, show: false });
    assert.deepEqual(
      hidden.map((field) => field.responseKey),
      ['first', 'auditEvents', 'me', 'second', '__typename'],
    );
  });

  it('decides each root field from the registry; meta fields need no policy, unknown fields are refused', () => {
    const query = '{ __typename accounts { id } auditEvents { id } me }';
    const fields = collectRootFields(parse(query), operationOf(query), {});
    const refusals = refusalsOf(fields, 'Query', viewer, { ...registry, 'Query.me': undefined });
    assert.deepEqual(
      refusals.map(({ coordinate, denial }) => [coordinate, denial.code, denial.extensions]),
      [
        ['Query.auditEvents', 'FORBIDDEN', { permission: 'audit.read' }],
        ['Query.me', 'FORBIDDEN', { reason: 'NO_POLICY' }],
      ],
    );
  });
});

describe('document rewriting', () => {
  const rewrite = (query: string, refused: string[], operationName?: string) => {
    const document = parse(query);
    const before = print(document);
    const rewritten = withoutRootFields(document, operationOf(query, operationName), new Set(refused));
    assert.equal(print(document), before, 'the original document is left alone');
    assert.deepEqual(validate(schema, rewritten.document), [], print(rewritten.document));
    assert.equal(rewritten.document.definitions[0], rewritten.operation);
    return print(rewritten.document);
  };

  it('removes a refused response key, not another alias of the same field', () => {
    assert.equal(
      rewrite('{ mine: accounts { id } audit: auditEvents { id } all: auditEvents { id } }', ['audit']),
      print(parse('{ mine: accounts { id } all: auditEvents { id } }')),
    );
  });

  it('filters root inline fragments, drops emptied ones, and keeps untouched ones as they are', () => {
    assert.equal(
      rewrite(
        '{ ... on Query { auditEvents { id } } ... @include(if: true) { me auditEvents { id } } accounts { id } }',
        ['auditEvents'],
      ),
      print(parse('{ ... @include(if: true) { me } accounts { id } }')),
    );
  });

  it('turns a root fragment spread that lost fields into an inline fragment and drops fragments left unused', () => {
    const query = `
      query ($hide: Boolean!) {
        ...Root @skip(if: $hide)
        ...OnlyRefused
        accounts { ...AccountFields }
      }
      fragment Root on Query { me auditEvents { id } ...Deeper }
      fragment Deeper on Query { auditEvents { ...EventFields } accounts { ...AccountFields } }
      fragment OnlyRefused on Query { auditEvents { id } }
      fragment AccountFields on Account { id name }
      fragment EventFields on Event { id }
    `;
    assert.equal(
      rewrite(query, ['auditEvents']),
      print(
        parse(`
          query ($hide: Boolean!) {
            ... on Query @skip(if: $hide) { me ... on Query { accounts { ...AccountFields } } }
            accounts { ...AccountFields }
          }
          fragment AccountFields on Account { id name }
        `),
      ),
    );
  });

  it('keeps a fragment spread that lost nothing, with its definition', () => {
    const query = '{ ...Mine auditEvents { id } } fragment Mine on Query { me accounts { id } }';
    assert.equal(rewrite(query, ['auditEvents']), print(parse(query.replace(' auditEvents { id }', ''))));
  });

  it('drops variable definitions only the refused fields used, and the other operations of the document', () => {
    const query = `
      mutation Both($name: String!, $text: String, $hide: Boolean!) {
        createAccount(name: $name) { id }
        note(text: $text) @skip(if: $hide)
      }
      query Other { auditEvents { id } }
    `;
    assert.equal(
      rewrite(query, ['createAccount'], 'Both'),
      print(parse('mutation Both($text: String, $hide: Boolean!) { note(text: $text) @skip(if: $hide) }')),
    );
  });
});

describe('merging the refusals into the answer', () => {
  it('puts null and a located error where a refused field would have answered, in execution order', () => {
    const query = '{ a: accounts { id } b: auditEvents { id } c: me }';
    const fields = collectRootFields(parse(query), operationOf(query), {});
    const refusals = refusalsOf(fields, 'Query', viewer, registry);
    const merged = mergeRefusals({
      fields,
      refusals,
      nullsData: false,
      executed: { data: { c: 'Viewer', a: [] } },
    });
    assert.deepEqual(Object.keys(merged.data ?? {}), ['a', 'b', 'c']);
    assert.deepEqual(json(merged), {
      data: { a: [], b: null, c: 'Viewer' },
      errors: [
        {
          message: 'Your role does not allow this',
          locations: [{ line: 1, column: 22 }],
          path: ['b'],
          extensions: { permission: 'audit.read', code: 'FORBIDDEN' },
        },
      ],
    });
  });

  it('nulls the whole data for a refused non-null field, and keeps errors in root field order', () => {
    const query = '{ accounts { id } required me }';
    const fields = collectRootFields(parse(query), operationOf(query), {});
    const refusals = refusalsOf(fields, 'Query', viewer, registry);
    const merged = mergeRefusals({
      fields,
      refusals,
      nullsData: true,
      executed: { data: { accounts: null, me: 'Viewer' }, errors: [denialError(refusals[0]!.denial)] },
    });
    assert.equal(merged.data, null);
    assert.deepEqual(
      merged.errors?.map((error) => error.path),
      [['required'], undefined],
    );
  });

  it('answers with the refusals alone when nothing was left to run', () => {
    const query = '{ auditEvents { id } }';
    const fields = collectRootFields(parse(query), operationOf(query), {});
    const merged = mergeRefusals({
      fields,
      refusals: refusalsOf(fields, 'Query', viewer, registry),
      nullsData: false,
      executed: null,
    });
    assert.deepEqual(json(merged.data), { auditEvents: null });
    assert.equal(merged.errors?.length, 1);
  });
});

describe('the early-refusal gateway', () => {
  it('hands an operation without refusals to the gateway untouched', async () => {
    const test = harness();
    const { executor } = await test.wrapped.load({ apollo: {} });
    assert.ok(executor);
    const context = requestContext('{ accounts { id } me }');
    const result = await executor(context);
    assert.equal(test.seen[0], context);
    assert.deepEqual(json(result), { data: { accounts: [{ id: 'a-1' }], me: 'Viewer' } });
    assert.deepEqual(test.records, []);
  });

  it('answers a query as execution with the refusal in the resolver would, without running the refused field', async () => {
    const query = `
      query ($skipMe: Boolean!) {
        first: accounts { id }
        ...Audit
        me @skip(if: $skipMe)
        events: auditEvents { id }
        __typename
      }
      fragment Audit on Query { auditEvents { id } accounts { name } }
    `;
    const request = { variables: { skipMe: false } };
    const test = harness();
    const result = await test.run(query, request);
    assert.deepEqual(json(result), await executedWithResolverRefusals(query, request));
    assert.deepEqual(test.resolved.sort(), ['accounts', 'accounts', 'me']);
    assert.deepEqual(
      test.records.map(({ field, code, reason, context }) => [field, code, reason, context.requestId]),
      [
        ['Query.auditEvents', 'FORBIDDEN', 'audit.read', 'request-1'],
        ['Query.auditEvents', 'FORBIDDEN', 'audit.read', 'request-1'],
      ],
    );
  });

  it('gives the remainder a new document and its own query hash, leaving the original context alone', async () => {
    const query = '{ accounts { id } auditEvents { id } }';
    const test = harness();
    const { executor } = await test.wrapped.load({ apollo: {} });
    assert.ok(executor);
    const original = requestContext(query);
    await executor(original);
    const [remainder] = test.seen;
    assert.ok(remainder);
    assert.notEqual(remainder, original);
    assert.equal(original.queryHash, sha256(query));
    assert.equal(print(original.document), print(parse(query)));
    assert.equal(remainder.source, print(parse('{ accounts { id } }')));
    assert.equal(remainder.queryHash, sha256(remainder.source));
    assert.notEqual(remainder.queryHash, original.queryHash);
    assert.equal(remainder.operation, remainder.document.definitions[0]);
    assert.equal(remainder.context, original.context);
  });

  it('nulls the data for a refused non-null query field, as resolver execution would', async () => {
    const query = '{ accounts { id } required }';
    const test = harness();
    assert.deepEqual(json(await test.run(query)), await executedWithResolverRefusals(query));
  });

  it('never runs the gateway when every root field is refused', async () => {
    const test = harness();
    const result = await test.run('{ auditEvents { id } required }', { context: { forwarded: viewer } });
    assert.deepEqual(test.seen, []);
    assert.equal(result.data, null);
    assert.deepEqual(
      result.errors?.map((error) => [error.path, error.extensions.code]),
      [
        [['auditEvents'], 'FORBIDDEN'],
        [['required'], 'FORBIDDEN'],
      ],
    );
  });

  it('never executes a refused mutation field; the allowed ones run', async () => {
    const test = harness();
    const result = await test.run('mutation ($text: String) { note(text: $text) createAccount(name: "Bank") { id } }', {
      variables: { text: 'hello' },
    });
    assert.deepEqual(test.resolved, ['note']);
    // createAccount is non-null: its refusal nulls the data, as a resolver error would.
    assert.deepEqual(json(result), {
      data: null,
      errors: [
        {
          message: 'Your role does not allow this',
          locations: [{ line: 1, column: 46 }],
          path: ['createAccount'],
          extensions: { permission: 'accounting.write', code: 'FORBIDDEN' },
        },
      ],
    });
  });

  it('refuses an anonymous caller a workspace field as UNAUTHENTICATED', async () => {
    const test = harness();
    const anonymous: ForwardedContext = { ...viewer, actor: { kind: 'anonymous' }, access: { kind: 'anonymous' } };
    const result = await test.run('{ me accounts { id } }', { context: { forwarded: anonymous } });
    assert.deepEqual(json(result.data), { me: 'Viewer', accounts: null });
    assert.deepEqual(
      result.errors?.map((error) => [error.message, error.extensions.code]),
      [['Sign in first', 'UNAUTHENTICATED']],
    );
  });

  it('leaves invalid variables to the gateway, which reports them as before', async () => {
    const test = harness();
    const { executor } = await test.wrapped.load({ apollo: {} });
    assert.ok(executor);
    const context = requestContext('mutation ($name: String!) { createAccount(name: $name) { id } }', {
      variables: {},
    });
    await executor(context);
    assert.equal(test.seen[0], context);
    assert.deepEqual(test.records, []);
  });

  it('refuses to run without a forwarded context', async () => {
    const test = harness();
    await assert.rejects(test.run('{ me }', { context: {} }), /without a forwarded context/);
    assert.deepEqual(test.seen, []);
  });

  it('delegates stop and schema updates to the wrapped gateway', async () => {
    const test = harness();
    const callback = () => undefined;
    const unsubscribe = test.wrapped.onSchemaLoadOrUpdate(callback);
    assert.deepEqual([...test.subscribers], [callback]);
    unsubscribe();
    assert.equal(test.subscribers.size, 0);
    await test.wrapped.stop();
    assert.equal(test.stopped(), true);
  });
});
