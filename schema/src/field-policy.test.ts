import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { buildASTSchema, parse } from 'graphql';
import { readSubgraphSdl } from './compose.ts';
import { withAccessDirectives } from './directives.ts';
import { extractFieldPolicies, renderFieldPolicyModule, rootTypes } from './field-policy.ts';
import { fieldPolicy } from './generated/field-policy.ts';
import { fieldPolicyFile, subgraphSources, supergraphFile } from './subgraphs.ts';

const subgraph = (sdl: string) => [{ name: 'planted', sdl: withAccessDirectives(sdl) }];

describe('field-to-policy registry', () => {
  it('the committed registry is what the subgraph SDLs say, and they break no rule', async () => {
    const { policies, violations } = extractFieldPolicies(await Promise.all(subgraphSources.map(readSubgraphSdl)));
    assert.deepEqual(violations, []);
    assert.equal(await readFile(fieldPolicyFile, 'utf8'), renderFieldPolicyModule(policies));
  });

  it('decides for exactly the root fields the supergraph has', async () => {
    const schema = buildASTSchema(parse(await readFile(supergraphFile, 'utf8')), { assumeValidSDL: true });
    const rootFields = rootTypes.flatMap((name) => {
      const type = schema.getType(name);
      return type === undefined || !('getFields' in type)
        ? []
        : Object.keys(type.getFields()).map((field) => `${name}.${field}`);
    });
    const registered = Object.keys(fieldPolicy).filter((coordinate) =>
      /^(Query|Mutation|Subscription)\./.test(coordinate),
    );
    // Federation's own entry points are not client operations: the gateway never exposes them.
    assert.deepEqual(
      rootFields.filter((name) => !['Query._entities', 'Query._service'].includes(name)).sort(),
      registered.sort(),
    );
  });

  it('refuses a root field without a scope decision (default deny), naming subgraph and field', () => {
    const { violations } = extractFieldPolicies(
      subgraph('type Query { open: String @public  forgotten: String }\ntype Mutation { wipe: Boolean }'),
    );
    assert.deepEqual(violations, [
      'planted: Query.forgotten has no scope decision: add @public, @signedIn, @tenantScoped or @portfolioScoped',
      'planted: Mutation.wipe has no scope decision: add @public, @signedIn, @tenantScoped or @portfolioScoped',
    ]);
  });

  it('refuses contradictory or incomplete decisions', () => {
    const { violations } = extractFieldPolicies(
      subgraph(`type Query {
        both: String @public @tenantScoped
        roleOnly: String @requiresRole(role: ADMIN)
        publicRole: String @public @requiresRole(role: ADMIN)
        portfolioRole: String @portfolioScoped @requiresRole(role: ADMIN) @requiresPermission(permission: AUDIT_READ)
        portfolioOpen: String @portfolioScoped
      }
      type Mutation { portfolioWrite: Boolean @portfolioScoped @requiresPermission(permission: ACCOUNTING_WRITE) }`),
    );
    assert.equal(violations.length, 6, violations.join('\n'));
    assert.match(violations[0] ?? '', /Query\.both has 2 scope decisions/);
    assert.match(violations[1] ?? '', /Query\.roleOnly has @requiresRole\/@requiresPermission without/);
  });

  it('reads role and permission arguments in the runtime spelling', () => {
    const { policies } = extractFieldPolicies(
      subgraph(
        'type Query { books: String @tenantScoped @requiresRole(role: MANAGER) @requiresPermission(permission: ACCOUNTING_READ) }',
      ),
    );
    assert.deepEqual(policies, {
      'Query.books': { subgraph: 'planted', scope: 'tenant', role: 'MANAGER', permission: 'accounting.read' },
    });
  });
});
