import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { unsafeCallSites as committedUnsafeCallSites } from './unsafe-call-sites.ts';

/**
 * A static audit of the TypeScript sources for the rule that every query and every write goes
 * through the tenant-scoped data access path (`DataAccess` in db/data-access.ts), with the tenant
 * taken from the AccessMode (`context.forwarded`, through `authorize`, `requirePermission` or
 * `requireTenant`) and never from what the client sent. Row-level security is the last line; this
 * audit keeps the code from leaning on it.
 *
 * The rules are syntactic, so they hold without type information and run in a second:
 *
 * - `no-driver-outside-data-layer`: only subgraphs/runtime/src/db/ imports a driver (`pg`, PGlite,
 *   drizzle's driver adapters) or drizzle's connection types (`PgDatabase`, `PgSession`). Table
 *   files may import drizzle-orm/pg-core's table and column builders.
 * - `no-raw-database`: no `Db` type and no `.db` (the raw handle of a ServiceDatabase) outside the
 *   data layer. The one way out of `.db` is straight into `createDataAccess(...)`, which is how the
 *   data access path itself is built.
 * - `unsafe-path-allowlisted`: `unsafeUnscoped` and `unsafeAsSystem` appear only in files listed in `unsafeCallSites`
 *   (any mention counts, so aliasing it does not hide a call), and every listed file still uses it.
 * - `resolver-takes-accessmode`: the tenant given to `inTenant(...)`, to `inScope({ tenantId })` or
 *   to `tenantLoader(...)`, and the portfolio given to `inPortfolio(...)`, are not client input.
 * - `no-tenant-from-input`: the `tenantId` of `.values({...})`, `.set({...})` and
 *   `onConflictDoUpdate({ set })` is not client input.
 * - `no-process-env`: `process.env` only in config.ts, main.ts and *-cli.ts files.
 *
 * Client input, for the last three rules, is decided within the enclosing functions: the names
 * `input` and `args`; the second parameter of a resolver (a function in a resolver map such as
 * `Mutation: { ... }`, or one whose third parameter is the context), destructured or not; the
 * representation handed to `__resolveReference`; and any name assigned from one of these, through
 * property reads, `??`, `||`, `&&`, `?:`, `await`, `!` and type assertions. A call ends the chain:
 * hashing a presented token and reading the row it names in a token or user scope is how a
 * tenant id legitimately reaches code that has no AccessMode for it yet (accepting an invitation,
 * resolving an API key), so a tenant id read from such a row is trusted.
 */
export interface Violation {
  /** Relative to the repository root, with `/` separators. */
  readonly path: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly rule: string;
  readonly message: string;
}

export interface SourceText {
  /** Relative to the repository root, with `/` separators. */
  readonly path: string;
  readonly text: string;
}

export interface AuditOptions {
  /** Files allowed to call `unsafeUnscoped` and why; the committed list unless a test plants one. */
  readonly unsafeCallSites?: Readonly<Record<string, string>>;
}

export const rules = {
  driverOutsideDataLayer: 'no-driver-outside-data-layer',
  rawDatabase: 'no-raw-database',
  unsafePathAllowlisted: 'unsafe-path-allowlisted',
  resolverTakesAccessMode: 'resolver-takes-accessmode',
  tenantFromInput: 'no-tenant-from-input',
  processEnv: 'no-process-env',
} as const;

export const unsafeCallSitesPath = 'subgraphs/runtime/src/audits/unsafe-call-sites.ts';

export const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

const auditedRoots = [/^subgraphs\/[^/]+\/src\//, /^gateway\/src\//];

/** The data layer itself, and tooling that sets up databases rather than serving requests. */
const excludedDirectories = [
  'subgraphs/runtime/src/db/',
  'subgraphs/runtime/src/testing/',
  'subgraphs/runtime/src/audits/',
  'subgraphs/runtime/src/stack/',
];

export function isAuditedPath(path: string): boolean {
  return (
    path.endsWith('.ts') &&
    !path.endsWith('.test.ts') &&
    !path.endsWith('.d.ts') &&
    !path.includes('/node_modules/') &&
    auditedRoots.some((root) => root.test(path)) &&
    !excludedDirectories.some((directory) => path.startsWith(directory))
  );
}

/** What the CLI and the repository test audit: every audited file, plus the allowlist's own text. */
export async function collectSourceFiles(root: string = repositoryRoot): Promise<SourceText[]> {
  const directories = ['gateway/src'];
  for (const entry of await readdir(join(root, 'subgraphs'), { withFileTypes: true })) {
    if (entry.isDirectory()) directories.push(`subgraphs/${entry.name}/src`);
  }
  const paths: string[] = [];
  for (const directory of directories) {
    const entries = await readdir(join(root, directory), { recursive: true, withFileTypes: true }).catch(
      (error: unknown) => {
        // A subgraph folder without sources (yet) has nothing to audit.
        if ((error as { code?: unknown }).code === 'ENOENT') return [];
        throw error;
      },
    );
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (isAuditedPath(path) || path === unsafeCallSitesPath) paths.push(path);
    }
  }
  paths.sort();
  return Promise.all(paths.map(async (path) => ({ path, text: await readFile(join(root, path), 'utf8') })));
}

export function formatViolation(violation: Violation): string {
  return `${violation.path}:${violation.line}:${violation.column}: ${violation.message} [${violation.rule}]`;
}

/**
 * Audits `files`, taken to be the whole source tree: files outside the audited set are skipped,
 * and an allowlisted file missing from `files` is reported as stale.
 */
export function auditAccessModeScoping(files: readonly SourceText[], options: AuditOptions = {}): Violation[] {
  const allowlist = options.unsafeCallSites ?? committedUnsafeCallSites;
  const violations: Violation[] = [];
  const unsafeUses = new Map<string, number>();
  for (const file of files) {
    if (!isAuditedPath(file.path)) continue;
    const uses = auditFile(file, allowlist, violations);
    unsafeUses.set(file.path, uses);
  }

  const allowlistText = files.find((file) => file.path === unsafeCallSitesPath)?.text;
  for (const [path, reason] of Object.entries(allowlist)) {
    const { line, column } = locateInText(allowlistText, `'${path}'`);
    const report = (message: string) =>
      violations.push({ path: unsafeCallSitesPath, line, column, rule: rules.unsafePathAllowlisted, message });
    const uses = unsafeUses.get(path);
    if (uses === undefined) {
      report(`unsafeCallSites lists ${path}, which does not exist or is not audited: remove the stale entry`);
    } else if (uses === 0) {
      report(
        `unsafeCallSites lists ${path}, which no longer calls unsafeUnscoped or unsafeAsSystem: remove the stale entry`,
      );
    } else if (reason.trim() === '') {
      report(`unsafeCallSites lists ${path} without a reason: say why its queries need no scope`);
    }
  }

  return violations.sort(
    (a, b) => compareText(a.path, b.path) || a.line - b.line || a.column - b.column || compareText(a.rule, b.rule),
  );
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function locateInText(text: string | undefined, needle: string): { line: number; column: number } {
  const index = text?.indexOf(needle) ?? -1;
  if (text === undefined || index < 0) return { line: 1, column: 1 };
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

const driverModules = [
  'pg',
  'pg-pool',
  'pg-native',
  'postgres',
  '@electric-sql/pglite',
  'drizzle-orm/node-postgres',
  'drizzle-orm/pglite',
  'drizzle-orm/postgres-js',
];
const isDriverModule = (specifier: string) =>
  driverModules.some((module) => specifier === module || specifier.startsWith(`${module}/`));

const pgCoreModule = 'drizzle-orm/pg-core';
/** What of drizzle-orm/pg-core reaches a connection; its table and column builders stay allowed. */
const pgCoreConnectionExports = new Set(['PgDatabase', 'PgSession']);

const processModules = new Set(['process', 'node:process']);

const dataLayerHint = 'only subgraphs/runtime/src/db/ talks to the database; everything else goes through DataAccess';
/** The data access paths that set no scope: each use must be in a listed file. */
const unsafeMembers: ReadonlySet<string> = new Set(['unsafeUnscoped', 'unsafeAsSystem']);

const txHint = 'query on the tx that dataAccess.inTenant/inScope/unsafeUnscoped hands out';
const accessModeHint =
  'take the tenant from the AccessMode: authorize/requirePermission/requireTenant(context.forwarded)';

/** Where a name's value comes from, as far as client input is concerned. */
interface Scope {
  readonly parent: Scope | undefined;
  /** Names bound in this function to client input, with where the value came from. */
  readonly tainted: Map<string, string>;
  /** Names bound in this function to anything else: they hide an enclosing function's names. */
  readonly clean: Set<string>;
}

/** Names that stand for a GraphQL argument object wherever they appear. */
const inputNames = new Set(['input', 'args']);

function auditFile(file: SourceText, allowlist: Readonly<Record<string, string>>, violations: Violation[]): number {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const name = basename(file.path);
  const mayReadEnvironment = name === 'config.ts' || name === 'main.ts' || name.endsWith('-cli.ts');
  const allowlisted = Object.hasOwn(allowlist, file.path);
  const pgCoreNamespaces = new Set<string>();
  let unsafeUses = 0;

  const report = (node: ts.Node, rule: string, message: string) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    violations.push({ path: file.path, line: line + 1, column: character + 1, rule, message });
  };

  const checkModule = (specifier: ts.Node, module: string) => {
    if (isDriverModule(module)) {
      report(specifier, rules.driverOutsideDataLayer, `imports the database driver '${module}'; ${dataLayerHint}`);
    }
  };

  const checkImportedName = (node: ts.Node, imported: string, module: string) => {
    if (module === pgCoreModule && pgCoreConnectionExports.has(imported)) {
      report(node, rules.driverOutsideDataLayer, `imports ${imported} from '${module}'; ${dataLayerHint}`);
    }
    if (imported === 'Db') {
      report(node, rules.rawDatabase, `imports the raw database type Db; ${txHint}`);
    }
    if (imported === 'env' && processModules.has(module) && !mayReadEnvironment) {
      report(node, rules.processEnv, processEnvMessage);
    }
  };

  const checkTenant = (value: ts.Expression, scope: Scope, rule: string, what: string) => {
    const taint = describeTaint(value, scope);
    if (taint !== undefined) report(value, rule, `${what} ${taint}, which is client input; ${accessModeHint}`);
  };

  const checkWrittenTenant = (values: ts.Expression | undefined, scope: Scope, call: string) => {
    if (values === undefined) return;
    for (const object of ts.isArrayLiteralExpression(values) ? values.elements : [values]) {
      if (!ts.isObjectLiteralExpression(object)) continue;
      for (const value of tenantIdValues(object)) {
        checkTenant(value, scope, rules.tenantFromInput, `${call} writes tenantId`);
      }
    }
  };

  const checkCall = (node: ts.CallExpression, scope: Scope) => {
    const callee = node.expression;
    const [first, second] = node.arguments;
    if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
      if (first !== undefined && ts.isStringLiteralLike(first)) checkModule(first, first.text);
      return;
    }
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
    if (name === 'inTenant' && first !== undefined) {
      checkTenant(first, scope, rules.resolverTakesAccessMode, 'inTenant scopes the transaction to');
    } else if (name === 'inScope' && first !== undefined && ts.isObjectLiteralExpression(first)) {
      for (const value of tenantIdValues(first)) {
        checkTenant(value, scope, rules.resolverTakesAccessMode, 'inScope scopes the transaction to tenant');
      }
    } else if (name === 'tenantLoader' && second !== undefined) {
      checkTenant(second, scope, rules.resolverTakesAccessMode, 'tenantLoader loads in tenant');
    } else if (name === 'inPortfolio' && first !== undefined) {
      // The client list decides which workspaces are read: an object built in place counts by its parts.
      for (const value of ts.isObjectLiteralExpression(unwrap(first)) ? objectValues(unwrap(first)) : [first]) {
        checkTenant(value, scope, rules.resolverTakesAccessMode, 'inPortfolio reads the portfolio');
      }
    } else if ((name === 'values' || name === 'set') && ts.isPropertyAccessExpression(callee)) {
      checkWrittenTenant(first, scope, `.${name}()`);
    } else if (name === 'onConflictDoUpdate' && first !== undefined && ts.isObjectLiteralExpression(first)) {
      for (const property of first.properties) {
        if (ts.isPropertyAssignment(property) && propertyName(property.name) === 'set') {
          checkWrittenTenant(property.initializer, scope, 'onConflictDoUpdate({ set })');
        }
      }
    }
  };

  const visit = (node: ts.Node, outer: Scope): void => {
    const scope = isFunctionWithBody(node) ? functionScope(node, outer) : outer;

    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const module = node.moduleSpecifier.text;
      checkModule(node.moduleSpecifier, module);
      const bindings = node.importClause?.namedBindings;
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          checkImportedName(element, (element.propertyName ?? element.name).text, module);
        }
      } else if (bindings !== undefined && module === pgCoreModule) {
        pgCoreNamespaces.add(bindings.name.text);
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      if (ts.isStringLiteral(node.moduleSpecifier)) {
        const module = node.moduleSpecifier.text;
        checkModule(node.moduleSpecifier, module);
        if (module === pgCoreModule && node.exportClause !== undefined && ts.isNamedExports(node.exportClause)) {
          for (const element of node.exportClause.elements) {
            checkImportedName(element, (element.propertyName ?? element.name).text, module);
          }
        }
      }
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) checkModule(expression, expression.text);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) {
        const module = argument.literal.text;
        checkModule(argument.literal, module);
        const qualifier = node.qualifier;
        if (qualifier !== undefined) {
          checkImportedName(qualifier, ts.isIdentifier(qualifier) ? qualifier.text : qualifier.right.text, module);
        }
      }
    } else if (ts.isTypeReferenceNode(node)) {
      const typeName = ts.isIdentifier(node.typeName) ? node.typeName.text : node.typeName.right.text;
      if (typeName === 'Db') report(node, rules.rawDatabase, `uses the raw database type Db; ${txHint}`);
      if (
        ts.isQualifiedName(node.typeName) &&
        ts.isIdentifier(node.typeName.left) &&
        pgCoreNamespaces.has(node.typeName.left.text) &&
        pgCoreConnectionExports.has(typeName)
      ) {
        report(node, rules.driverOutsideDataLayer, `uses ${typeName} from '${pgCoreModule}'; ${dataLayerHint}`);
      }
    } else if (ts.isPropertyAccessExpression(node)) {
      const member = node.name.text;
      if (member === 'db' && !isHandedToDataAccess(node)) {
        report(node, rules.rawDatabase, `reads the raw database handle ${node.getText(source)}; ${txHint}`);
      } else if (member === 'env' && isProcess(node.expression) && !mayReadEnvironment) {
        report(node, rules.processEnv, processEnvMessage);
      } else if (
        pgCoreConnectionExports.has(member) &&
        ts.isIdentifier(node.expression) &&
        pgCoreNamespaces.has(node.expression.text)
      ) {
        report(node, rules.driverOutsideDataLayer, `uses ${member} from '${pgCoreModule}'; ${dataLayerHint}`);
      }
    } else if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
      const member = node.argumentExpression.text;
      if (member === 'db' && !isHandedToDataAccess(node)) {
        report(node, rules.rawDatabase, `reads the raw database handle ${node.getText(source)}; ${txHint}`);
      } else if (member === 'env' && isProcess(node.expression) && !mayReadEnvironment) {
        report(node, rules.processEnv, processEnvMessage);
      } else if (unsafeMembers.has(member)) {
        unsafeUses += 1;
        if (!allowlisted) report(node, rules.unsafePathAllowlisted, unsafeMessage(file.path));
      }
    } else if (ts.isBindingElement(node)) {
      const bound = node.propertyName ?? node.name;
      const member = ts.isIdentifier(bound) || ts.isStringLiteral(bound) ? bound.text : undefined;
      if (member === 'db') {
        report(node, rules.rawDatabase, `takes the raw database handle db out of an object; ${txHint}`);
      } else if (member === 'env' && !mayReadEnvironment && isDestructuredFromProcess(node)) {
        report(node, rules.processEnv, processEnvMessage);
      }
    } else if (ts.isIdentifier(node) && unsafeMembers.has(node.text)) {
      unsafeUses += 1;
      if (!allowlisted) report(node, rules.unsafePathAllowlisted, unsafeMessage(file.path));
    } else if (ts.isCallExpression(node)) {
      checkCall(node, scope);
    }

    ts.forEachChild(node, (child) => visit(child, scope));
  };

  const moduleScope: Scope = { parent: undefined, tainted: new Map(), clean: new Set() };
  collectLocalBindings(source, moduleScope);
  visit(source, moduleScope);
  return unsafeUses;
}

const processEnvMessage =
  'reads process.env outside config.ts, main.ts or a *-cli.ts entry point; configuration is parsed once, read the typed config object';

const unsafeMessage = (path: string) =>
  `uses dataAccess.unsafeUnscoped or unsafeAsSystem, but ${path} is not listed in unsafeCallSites (${unsafeCallSitesPath}); ` +
  'scope the transaction with inTenant/inScope, or list the file with why its queries need no scope';

/** `createDataAccess(database.db)`: the raw handle becoming the data access path, nothing else. */
function isHandedToDataAccess(node: ts.Expression): boolean {
  const parent = node.parent;
  return (
    ts.isCallExpression(parent) &&
    parent.arguments.includes(node) &&
    ts.isIdentifier(parent.expression) &&
    parent.expression.text === 'createDataAccess'
  );
}

function isProcess(node: ts.Expression): boolean {
  return (
    (ts.isIdentifier(node) && node.text === 'process') ||
    (ts.isPropertyAccessExpression(node) && node.name.text === 'process')
  );
}

function isDestructuredFromProcess(node: ts.BindingElement): boolean {
  const declaration = node.parent.parent;
  return ts.isVariableDeclaration(declaration) && declaration.initializer !== undefined
    ? isProcess(unwrap(declaration.initializer))
    : false;
}

function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteralLike(name) || ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression)) return name.expression.text;
  return undefined;
}

/** Every value an object literal holds: its properties (shorthand included) and what it spreads. */
function objectValues(object: ts.Expression): ts.Expression[] {
  if (!ts.isObjectLiteralExpression(object)) return [];
  return object.properties.flatMap((property) => {
    if (ts.isPropertyAssignment(property)) return [property.initializer];
    if (ts.isShorthandPropertyAssignment(property)) return [property.name];
    if (ts.isSpreadAssignment(property)) return [property.expression];
    return [];
  });
}

/** The values an object literal gives its `tenantId` property (shorthand included). */
function tenantIdValues(object: ts.ObjectLiteralExpression): ts.Expression[] {
  const values: ts.Expression[] = [];
  for (const property of object.properties) {
    if (ts.isPropertyAssignment(property) && propertyName(property.name) === 'tenantId') {
      values.push(property.initializer);
    } else if (ts.isShorthandPropertyAssignment(property) && property.name.text === 'tenantId') {
      values.push(property.name);
    }
  }
  return values;
}

type FunctionWithBody = ts.FunctionLikeDeclaration;

function isFunctionWithBody(node: ts.Node): node is FunctionWithBody {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** Peels off what does not change a value: parentheses, `await`, `!` and type assertions. */
function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAwaitExpression(current) ||
    ts.isNonNullExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isTypeAssertionExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

function taintOfName(scope: Scope, name: string): string | undefined {
  if (inputNames.has(name)) return `\`${name}\``;
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    const origin = current.tainted.get(name);
    if (origin !== undefined) return origin;
    if (current.clean.has(name)) return undefined;
  }
  return undefined;
}

/** Where `node`'s value comes from if it is client input, else undefined. */
function taintOf(node: ts.Expression, scope: Scope): string | undefined {
  const expression = unwrap(node);
  if (ts.isIdentifier(expression)) return taintOfName(scope, expression.text);
  if (ts.isPropertyAccessExpression(expression) || ts.isElementAccessExpression(expression)) {
    return taintOf(expression.expression, scope);
  }
  if (ts.isConditionalExpression(expression)) {
    return taintOf(expression.whenTrue, scope) ?? taintOf(expression.whenFalse, scope);
  }
  if (ts.isBinaryExpression(expression)) {
    switch (expression.operatorToken.kind) {
      case ts.SyntaxKind.QuestionQuestionToken:
      case ts.SyntaxKind.BarBarToken:
      case ts.SyntaxKind.AmpersandAmpersandToken:
        return taintOf(expression.left, scope) ?? taintOf(expression.right, scope);
      case ts.SyntaxKind.CommaToken:
      case ts.SyntaxKind.EqualsToken:
        return taintOf(expression.right, scope);
      default:
        return undefined;
    }
  }
  return undefined;
}

const shortText = (node: ts.Node) => {
  const text = node.getText().replace(/\s+/g, ' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function isPath(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return true;
  return (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && isPath(unwrap(node.expression));
}

/** `input.tenantId`, or `tenantId` (from `input.workspaceId`), when the value is client input. */
function describeTaint(node: ts.Expression, scope: Scope): string | undefined {
  const origin = taintOf(node, scope);
  if (origin === undefined) return undefined;
  const text = `\`${shortText(unwrap(node))}\``;
  const root = rootName(unwrap(node));
  return origin === text || (root !== undefined && origin === `\`${root}\``) ? text : `${text} (from ${origin})`;
}

function rootName(node: ts.Expression): string | undefined {
  if (ts.isIdentifier(node)) return node.text;
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node))
    return rootName(unwrap(node.expression));
  return undefined;
}

/** Whether a function is a GraphQL resolver, and which parameter then carries client input. */
function resolverRole(fn: FunctionWithBody): 'resolver' | 'reference' | undefined {
  const holder = ts.isMethodDeclaration(fn) ? fn : ts.isPropertyAssignment(fn.parent) ? fn.parent : undefined;
  const key = holder === undefined ? undefined : propertyName(holder.name);
  if (holder !== undefined && key !== undefined && isResolverMap(holder.parent)) {
    return key === '__resolveReference' ? 'reference' : 'resolver';
  }
  const third = fn.parameters[2];
  return third !== undefined && isContextParameter(third) ? 'resolver' : undefined;
}

/** `{ ... }` under a GraphQL type name: `Query: { ... }`, `Tenant: { ... }`. */
function isResolverMap(node: ts.Node): boolean {
  if (!ts.isObjectLiteralExpression(node) || !ts.isPropertyAssignment(node.parent)) return false;
  const typeName = propertyName(node.parent.name);
  return typeName !== undefined && /^[A-Z]/.test(typeName);
}

function isContextParameter(parameter: ts.ParameterDeclaration): boolean {
  if (ts.isIdentifier(parameter.name) && /^_*(context|ctx)$/i.test(parameter.name.text)) return true;
  const type = parameter.type;
  return type !== undefined && ts.isTypeReferenceNode(type) && /Context$/.test(type.typeName.getText());
}

/** The names a binding introduces, each with the path it reads from `base` (for messages). */
function boundNames(name: ts.BindingName, base: string): { name: string; path: string }[] {
  if (ts.isIdentifier(name)) return [{ name: name.text, path: base }];
  const names: { name: string; path: string }[] = [];
  name.elements.forEach((element, index) => {
    if (ts.isOmittedExpression(element)) return;
    let path = base;
    if (element.dotDotDotToken === undefined && ts.isArrayBindingPattern(name)) path = `${base}[${index}]`;
    if (element.dotDotDotToken === undefined && ts.isObjectBindingPattern(name)) {
      const key = element.propertyName ?? element.name;
      path = `${base}.${ts.isIdentifier(key) ? key.text : ts.isPropertyName(key) ? (propertyName(key) ?? '?') : '?'}`;
    }
    names.push(...boundNames(element.name, path));
  });
  return names;
}

function functionScope(fn: FunctionWithBody, parent: Scope): Scope {
  const scope: Scope = { parent, tainted: new Map(), clean: new Set() };
  const role = resolverRole(fn);
  fn.parameters.forEach((parameter, index) => {
    for (const bound of boundNames(parameter.name, '')) {
      if (role === 'resolver' && index === 1) scope.tainted.set(bound.name, `the GraphQL argument \`${bound.name}\``);
      else if (role === 'reference' && index === 0) {
        scope.tainted.set(bound.name, `the entity representation \`${bound.name}\``);
      } else scope.clean.add(bound.name);
    }
  });
  collectLocalBindings(fn, scope);
  return scope;
}

/**
 * Marks the names a function (or the module) binds in its own body as client input or not, by
 * what they are assigned; nested functions get their own scope. Repeats until nothing changes, so
 * the order of assignments does not matter.
 */
function collectLocalBindings(owner: FunctionWithBody | ts.SourceFile, scope: Scope): void {
  const bindings: { name: ts.BindingName; value: ts.Expression | undefined }[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionWithBody(node)) {
      if (ts.isFunctionDeclaration(node) && node.name !== undefined) scope.clean.add(node.name.text);
      return;
    }
    if (ts.isVariableDeclaration(node)) {
      bindings.push({ name: node.name, value: node.initializer });
    } else if (
      (ts.isForOfStatement(node) || ts.isForInStatement(node)) &&
      ts.isVariableDeclarationList(node.initializer)
    ) {
      for (const declaration of node.initializer.declarations) {
        bindings.push({ name: declaration.name, value: node.expression });
      }
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(node.left)
    ) {
      bindings.push({ name: node.left, value: node.right });
    }
    ts.forEachChild(node, visit);
  };
  const body = ts.isSourceFile(owner) ? owner : owner.body;
  if (body !== undefined && (ts.isSourceFile(body) || ts.isBlock(body))) ts.forEachChild(body, visit);
  else if (body !== undefined) visit(body);

  for (let changed = true; changed;) {
    changed = false;
    for (const { name, value } of bindings) {
      const origin = value === undefined ? undefined : taintOf(value, scope);
      const base = value === undefined ? '' : shortText(unwrap(value));
      for (const bound of boundNames(name, base)) {
        if (origin === undefined) {
          scope.clean.add(bound.name);
        } else if (!scope.tainted.has(bound.name)) {
          // `a ?? b` or `c ? a : b` says less than where its tainted operand came from.
          scope.tainted.set(bound.name, value !== undefined && isPath(unwrap(value)) ? `\`${bound.path}\`` : origin);
          changed = true;
        }
      }
    }
  }
}
