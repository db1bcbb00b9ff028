import { Kind, parse } from 'graphql';
import type { ConstDirectiveNode, DocumentNode } from 'graphql';

/** Where a field may resolve: for anyone, for a signed-in person, in one workspace, across a portfolio. */
export type FieldScope = 'public' | 'signed-in' | 'tenant' | 'portfolio';

export type PolicyRole = 'ADMIN' | 'MANAGER' | 'OPERATOR' | 'VIEWER';

/** Permissions as the runtime spells them: `ACCOUNTING_WRITE` in the SDL is `accounting.write`. */
export type PolicyPermission =
  | 'workspace.read'
  | 'workspace.manage'
  | 'members.manage'
  | 'accounting.read'
  | 'accounting.write'
  | 'documents.read'
  | 'documents.write'
  | 'audit.read'
  | 'apikeys.manage'
  | 'payroll.read'
  | 'payroll.write';

export interface FieldPolicy {
  /** The subgraph whose SDL declares the field. */
  readonly subgraph: string;
  readonly scope: FieldScope;
  readonly role?: PolicyRole;
  readonly permission?: PolicyPermission;
}

export interface SubgraphSdl {
  readonly name: string;
  readonly sdl: string;
}

export const rootTypes = ['Query', 'Mutation', 'Subscription'] as const;

const scopeOf: Record<'public' | 'signedIn' | 'tenantScoped' | 'portfolioScoped', FieldScope> = {
  public: 'public',
  signedIn: 'signed-in',
  tenantScoped: 'tenant',
  portfolioScoped: 'portfolio',
};

function enumArgument(directive: ConstDirectiveNode, name: string): string | null {
  const argument = directive.arguments?.find((candidate) => candidate.name.value === name);
  return argument?.value.kind === Kind.ENUM ? argument.value.value : null;
}

function fieldPolicyOf(
  subgraph: string,
  coordinate: string,
  directives: readonly ConstDirectiveNode[],
  violations: string[],
): FieldPolicy | null {
  const names = directives.map((directive) => directive.name.value);
  const scopes = names.filter((name): name is keyof typeof scopeOf => name in scopeOf);
  const roleDirective = directives.find((directive) => directive.name.value === 'requiresRole');
  const permissionDirective = directives.find((directive) => directive.name.value === 'requiresPermission');
  const isRoot = (rootTypes as readonly string[]).includes(coordinate.split('.')[0] ?? '');
  if (scopes.length === 0 && roleDirective === undefined && permissionDirective === undefined) {
    if (isRoot) {
      violations.push(
        `${subgraph}: ${coordinate} has no scope decision: add @public, @signedIn, @tenantScoped or @portfolioScoped`,
      );
    }
    return null;
  }
  if (scopes.length !== 1) {
    violations.push(
      scopes.length === 0
        ? `${subgraph}: ${coordinate} has @requiresRole/@requiresPermission without @tenantScoped or @portfolioScoped`
        : `${subgraph}: ${coordinate} has ${scopes.length} scope decisions (${scopes.map((name) => `@${name}`).join(', ')}): keep one`,
    );
    return null;
  }
  const scope = scopeOf[scopes[0] as keyof typeof scopeOf];
  if (roleDirective !== undefined && scope !== 'tenant') {
    violations.push(`${subgraph}: ${coordinate}: @requiresRole applies only with @tenantScoped`);
    return null;
  }
  if (permissionDirective !== undefined && scope !== 'tenant' && scope !== 'portfolio') {
    violations.push(
      `${subgraph}: ${coordinate}: @requiresPermission applies only with @tenantScoped or @portfolioScoped`,
    );
    return null;
  }
  if (scope === 'portfolio' && (!coordinate.startsWith('Query.') || permissionDirective === undefined)) {
    violations.push(`${subgraph}: ${coordinate}: @portfolioScoped is for Query fields, with a @requiresPermission`);
    return null;
  }
  const role = roleDirective === undefined ? null : enumArgument(roleDirective, 'role');
  const permission = permissionDirective === undefined ? null : enumArgument(permissionDirective, 'permission');
  return {
    subgraph,
    scope,
    ...(role === null ? {} : { role: role as PolicyRole }),
    ...(permission === null ? {} : { permission: permission.toLowerCase().replace('_', '.') as PolicyPermission }),
  };
}

/**
 * Reads every field's access directives from the subgraph SDLs. Default deny: a root field with no
 * scope decision, or with a contradictory one, is a violation, named with its subgraph.
 */
export function extractFieldPolicies(subgraphs: readonly SubgraphSdl[]): {
  policies: Record<string, FieldPolicy>;
  violations: string[];
} {
  const policies: Record<string, FieldPolicy> = {};
  const violations: string[] = [];
  for (const subgraph of subgraphs) {
    const document: DocumentNode = parse(subgraph.sdl);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      for (const field of definition.fields ?? []) {
        const coordinate = `${definition.name.value}.${field.name.value}`;
        const policy = fieldPolicyOf(subgraph.name, coordinate, field.directives ?? [], violations);
        if (policy === null) continue;
        if (policies[coordinate] !== undefined) {
          violations.push(`${subgraph.name}: ${coordinate} is also declared by ${policies[coordinate].subgraph}`);
          continue;
        }
        policies[coordinate] = policy;
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(policies).sort(([a], [b]) => a.localeCompare(b)));
  return { policies: sorted, violations };
}

/** The committed TypeScript module the gateway and the subgraphs import the registry from. */
export function renderFieldPolicyModule(policies: Readonly<Record<string, FieldPolicy>>): string {
  const lines = Object.entries(policies).map(([coordinate, policy]) => {
    const parts = [`subgraph: '${policy.subgraph}'`, `scope: '${policy.scope}'`];
    if (policy.role !== undefined) parts.push(`role: '${policy.role}'`);
    if (policy.permission !== undefined) parts.push(`permission: '${policy.permission}'`);
    return `  '${coordinate}': { ${parts.join(', ')} },`;
  });
  return [
    '// Generated by `npm run compose` from the access directives of the subgraph SDL files. Do not edit.',
    "import type { FieldPolicy } from '../field-policy.ts';",
    '',
    'export const fieldPolicy = {',
    ...lines,
    '} as const satisfies Record<string, FieldPolicy>;',
    '',
  ].join('\n');
}
