import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { withAccessDirectives } from '@numezis/schema';
import type { RequestAccess } from '../context/access-mode.ts';
import type { ForwardedContext } from '../context/signed-context.ts';
import { clientError, ErrorCode } from '../errors.ts';
import { rolePermissions } from '../policy/roles.ts';
import type { DeniedAttempt } from '../security/access-denials.ts';
import { accessDirectivesTransformer } from './access-directives.ts';

const tenantId = '6f9c3d1a-2b4e-4c5d-8e7f-0a1b2c3d4e5f';

const sdl = withAccessDirectives(`
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Thing @key(fields: "id") {
  id: ID!
  secret: String @tenantScoped @requiresPermission(permission: AUDIT_READ)
}
type Query {
  hello: String @public
  things: [Thing!] @tenantScoped @requiresPermission(permission: ACCOUNTING_READ)
  thing(id: ID!): Thing @tenantScoped @requiresPermission(permission: ACCOUNTING_READ)
  forgotten: String
}
type Mutation {
  removeThing(id: ID!): Boolean @tenantScoped @requiresRole(role: MANAGER)
}
`);

function setup() {
  const recorded: DeniedAttempt[] = [];
  const resolvedReferences: string[] = [];
  const executed: string[] = [];
  const schema = accessDirectivesTransformer({ record: (attempt) => recorded.push(attempt), counts: () => new Map() })(
    buildSubgraphSchema({
      typeDefs: parse(sdl),
      resolvers: {
        Query: {
          hello: () => 'hi',
          things: () => [{ id: 'a' }],
          thing: (_: unknown, { id }: { id: string }) => (id === 'a' ? { id } : null),
          forgotten: () => 'should never resolve',
        },
        Mutation: {
          removeThing: () => {
            executed.push('removeThing');
            throw clientError(ErrorCode.NOT_FOUND, 'No such thing');
          },
        },
        Thing: {
          __resolveReference: (reference: { id: string }) => {
            resolvedReferences.push(reference.id);
            return reference.id === 'a' ? { id: 'a' } : null;
          },
          secret: () => 'the secret',
        },
      },
    }),
  );
  return { schema, recorded, resolvedReferences, executed };
}

function as(access: RequestAccess): { forwarded: ForwardedContext } {
  return {
    forwarded: {
      requestId: 'req-1',
      clientIp: '127.0.0.1',
      userAgent: null,
      actor:
        access.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: 'user', userId: tenantId, sessionId: tenantId },
      access,
      mfaAt: null,
      mfaRequired: false,
    },
  };
}

const viewer = as({ kind: 'tenant', tenantId, role: 'VIEWER', permissions: rolePermissions.VIEWER });
const admin = as({ kind: 'tenant', tenantId, role: 'ADMIN', permissions: rolePermissions.ADMIN });

// graphql-js answers null-prototype objects; compare them as the client sees them, in JSON.
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe('access directives in a subgraph', () => {
  it('answers allowed fields and nulls a refused one with FORBIDDEN, recording the attempt', async () => {
    const { schema, recorded } = setup();
    const result = await graphql({ schema, source: '{ hello things { id secret } }', contextValue: viewer });
    assert.deepEqual(plain(result.data), { hello: 'hi', things: [{ id: 'a', secret: null }] });
    assert.deepEqual(
      result.errors?.map((error) => [error.path?.join('.'), error.extensions.code, error.extensions.permission]),
      [['things.0.secret', 'FORBIDDEN', 'audit.read']],
    );
    assert.deepEqual(
      recorded.map(({ field, code, reason }) => ({ field, code, reason })),
      [{ field: 'Thing.secret', code: 'FORBIDDEN', reason: 'audit.read' }],
    );
  });

  it('refuses a root field that carries no scope decision (default deny)', async () => {
    const { schema } = setup();
    const result = await graphql({ schema, source: '{ forgotten }', contextValue: admin });
    assert.equal(result.data?.forgotten, null);
    assert.equal(result.errors?.[0]?.extensions.reason, 'NO_POLICY');
  });

  it('never runs a refused mutation, and counts a by-id miss or NOT_FOUND as a possible probe', async () => {
    const { schema, recorded, executed } = setup();
    const refused = await graphql({ schema, source: 'mutation { removeThing(id: "a") }', contextValue: viewer });
    assert.equal(refused.errors?.[0]?.extensions.requiredRole, 'MANAGER');
    assert.deepEqual(executed, []);
    const missed = await graphql({ schema, source: 'mutation { removeThing(id: "b") }', contextValue: admin });
    assert.equal(missed.errors?.[0]?.extensions.code, 'NOT_FOUND');
    assert.deepEqual(executed, ['removeThing']);
    const absent = await graphql({ schema, source: '{ thing(id: "zzz") { id } }', contextValue: admin });
    assert.deepEqual(plain(absent.data), { thing: null });
    assert.deepEqual(
      recorded.map(({ field, code }) => `${field} ${code}`),
      ['Mutation.removeThing FORBIDDEN', 'Mutation.removeThing NOT_FOUND', 'Query.thing NOT_FOUND'],
    );
  });

  it('keeps entity resolution going through __resolveReference after the transform', async () => {
    const { schema, resolvedReferences } = setup();
    const result = await graphql({
      schema,
      source: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { id } } }',
      variableValues: {
        r: [
          { __typename: 'Thing', id: 'a' },
          { __typename: 'Thing', id: 'other-tenant' },
        ],
      },
      contextValue: admin,
    });
    // Without the reference resolver, `_entities` would echo the second representation back.
    assert.deepEqual(plain(result.data), { _entities: [{ id: 'a' }, null] });
    assert.deepEqual(resolvedReferences, ['a', 'other-tenant']);
  });
});
