import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auditAccessModeScoping,
  collectSourceFiles,
  formatViolation,
  repositoryRoot,
  rules,
  unsafeCallSitesPath,
} from './accessmode-scoping.ts';
import type { AuditOptions, SourceText, Violation } from './accessmode-scoping.ts';

const file = (path: string, ...lines: string[]): SourceText => ({ path, text: `${lines.join('\n')}\n` });

/** Planted files are audited alone, so the committed allowlist would only report its entries stale. */
const noUnsafeCallSites: AuditOptions = { unsafeCallSites: {} };

function assertReported(violations: readonly Violation[], rule: string, path: string, line: number): void {
  const found = violations.filter((violation) => violation.rule === rule && violation.path === path);
  const report = violations.map(formatViolation).join('\n');
  assert.ok(
    found.some((violation) => violation.line === line),
    `expected ${rule} at ${path}:${line}, got:\n${report}`,
  );
  for (const violation of found) {
    assert.match(
      formatViolation(violation),
      new RegExp(`^${path}:${violation.line}:${violation.column}: .+ \\[${rule}\\]$`),
    );
  }
}

const onlyRules = (violations: readonly Violation[]) => [...new Set(violations.map((violation) => violation.rule))];

describe('the accessmode scoping audit', () => {
  it('finds no violation in the repository', async () => {
    const files = await collectSourceFiles(repositoryRoot);
    assert.ok(files.some((source) => source.path === 'subgraphs/accounting/src/resolvers.ts'));
    assert.ok(files.some((source) => source.path === 'gateway/src/app.ts'));
    const violations = auditAccessModeScoping(files);
    assert.deepEqual(violations.map(formatViolation), []);
  });

  it('passes a resolver that takes its tenant from the AccessMode', () => {
    const clean = file(
      'subgraphs/accounting/src/clean.ts',
      "import { randomUUID } from 'node:crypto';",
      "import { pgSchema, text, uuid } from 'drizzle-orm/pg-core';",
      "import { authorize, requireUser, tenantLoader } from '@numezis/runtime';",
      "import type { DataAccess, ForwardedContext, SubgraphContext, Tx } from '@numezis/runtime';",
      "const schema = pgSchema('accounting');",
      "const things = schema.table('things', { tenantId: uuid('tenant_id').notNull(), id: uuid('id'), name: text('name') });",
      'export function loaders(dataAccess: DataAccess, context: ForwardedContext) {',
      '  const tenantId = context.tenantId;',
      '  return tenantLoader(dataAccess, tenantId, async (tx: Tx, ids: readonly string[]) => new Map(ids.map((id) => [id, id])));',
      '}',
      'export const resolvers = (dataAccess: DataAccess) => ({',
      '  Mutation: {',
      '    createThing: async (_: unknown, { input }: { input: { name: string } }, context: SubgraphContext) => {',
      "      const tenantId = authorize(context.forwarded, 'Mutation.createAccount');",
      '      return dataAccess.inTenant(tenantId, (tx) =>',
      '        tx.insert(things).values({ tenantId, id: randomUUID(), name: input.name }).returning(),',
      '      );',
      '    },',
      '    acceptThing: async (_: unknown, { token }: { token: string }, context: SubgraphContext) => {',
      '      const { userId } = requireUser(context.forwarded);',
      '      const found = await dataAccess.inScope({ userId, tokenHash: token.toLowerCase() }, async () => ({ tenantId: userId }));',
      '      return dataAccess.inTenant(found.tenantId, (tx) => tx.update(things).set({ name: token }));',
      '    },',
      '  },',
      '});',
    );
    assert.deepEqual(auditAccessModeScoping([clean], noUnsafeCallSites).map(formatViolation), []);
  });

  it(`reports a driver imported outside the data layer [${rules.driverOutsideDataLayer}]`, () => {
    const path = 'subgraphs/documents/src/storage.ts';
    const violations = auditAccessModeScoping(
      [
        file(
          path,
          "import { eq } from 'drizzle-orm';",
          "import pg from 'pg';",
          "import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';",
          "import { drizzle } from 'drizzle-orm/node-postgres';",
          "export const open = async () => (await import('@electric-sql/pglite')).PGlite;",
          'export type Raw = PgDatabase<PgQueryResultHKT>;',
          'export const client = (url: string) => drizzle({ client: new pg.Pool({ connectionString: url }) });',
          'export { eq };',
        ),
      ],
      noUnsafeCallSites,
    );
    for (const line of [2, 3, 4, 5]) assertReported(violations, rules.driverOutsideDataLayer, path, line);
    assert.deepEqual(onlyRules(violations), [rules.driverOutsideDataLayer]);
  });

  it(`reports the raw database handle outside the data layer [${rules.rawDatabase}]`, () => {
    const path = 'subgraphs/runtime/src/server/shortcut.ts';
    const violations = auditAccessModeScoping(
      [
        file(
          path,
          "import type { Db } from '../db/database.ts';",
          "import type { ServiceDatabase } from '../db/database.ts';",
          "import { createDataAccess } from '../db/data-access.ts';",
          'export const scoped = (database: ServiceDatabase) => createDataAccess(database.db);',
          'export const raw = (database: ServiceDatabase) => database.db.execute;',
          'export function count(handle: Db) {',
          '  return handle;',
          '}',
        ),
      ],
      noUnsafeCallSites,
    );
    for (const line of [1, 5, 6]) assertReported(violations, rules.rawDatabase, path, line);
    assert.ok(!violations.some((violation) => violation.line === 4), 'createDataAccess(database.db) builds the path');
    assert.deepEqual(onlyRules(violations), [rules.rawDatabase]);
  });

  it(`reports unsafeUnscoped outside the allowlist, and stale entries [${rules.unsafePathAllowlisted}]`, () => {
    const listed = 'subgraphs/identity/src/auth/lookup.ts';
    const unlisted = 'subgraphs/accounting/src/export.ts';
    const stale = 'subgraphs/identity/src/auth/old-lookup.ts';
    const unsafeCall = (path: string) =>
      file(
        path,
        "import type { DataAccess } from '@numezis/runtime';",
        'export const all = (dataAccess: DataAccess) =>',
        '  dataAccess.unsafeUnscoped((tx) => tx.execute("select 1"));',
      );
    const allowlist = file(
      unsafeCallSitesPath,
      'export const unsafeCallSites: Readonly<Record<string, string>> = {',
      `  '${listed}': 'found by a token',`,
      `  '${stale}': 'found by a token once',`,
      '};',
    );
    const violations = auditAccessModeScoping(
      [unsafeCall(listed), unsafeCall(unlisted), file(stale, 'export const nothing = 0;'), allowlist],
      { unsafeCallSites: { [listed]: 'found by a token', [stale]: 'found by a token once' } },
    );
    assertReported(violations, rules.unsafePathAllowlisted, unlisted, 3);
    assertReported(violations, rules.unsafePathAllowlisted, unsafeCallSitesPath, 3);
    assert.equal(violations.length, 2, violations.map(formatViolation).join('\n'));
    assert.match(violations.find((violation) => violation.path === unlisted)?.message ?? '', /not listed/);
    assert.match(violations.find((violation) => violation.path === unsafeCallSitesPath)?.message ?? '', /stale/);
  });

  it(`treats a system job's unsafeAsSystem like unsafeUnscoped [${rules.unsafePathAllowlisted}]`, () => {
    const job = file(
      'subgraphs/identity/src/jobs/cleanup.ts',
      "import type { DataAccess, SystemAccess } from '@numezis/runtime';",
      'export const run = (access: SystemAccess, dataAccess: DataAccess) =>',
      '  dataAccess.unsafeAsSystem(access, (tx) => tx.execute("delete from x"));',
    );
    const violations = auditAccessModeScoping([job], { unsafeCallSites: {} });
    assertReported(violations, rules.unsafePathAllowlisted, 'subgraphs/identity/src/jobs/cleanup.ts', 3);
    assert.deepEqual(
      auditAccessModeScoping([job], { unsafeCallSites: { 'subgraphs/identity/src/jobs/cleanup.ts': 'expired rows' } }),
      [],
    );
  });

  it(`reports a transaction scoped to a tenant from client input [${rules.resolverTakesAccessMode}]`, () => {
    const path = 'subgraphs/accounting/src/leaky-resolvers.ts';
    const violations = auditAccessModeScoping(
      [
        file(
          path,
          "import type { DataAccess, SubgraphContext } from '@numezis/runtime';",
          'export const resolvers = (dataAccess: DataAccess) => ({',
          '  Query: {',
          '    books: (_: unknown, { workspaceId }: { workspaceId: string }) =>',
          '      dataAccess.inTenant(workspaceId, (tx) => tx.execute("select 1")),',
          '    ledger: async (_: unknown, args: { input: { tenantId: string } }, context: SubgraphContext) => {',
          '      const { tenantId } = args.input;',
          '      const chosen = tenantId ?? context.forwarded.tenantId;',
          '      return dataAccess.inTenant(chosen, (tx) => tx.execute("select 1"));',
          '    },',
          '    other: (_: unknown, __: unknown, context: SubgraphContext, input = { tenantId: "" }) =>',
          '      dataAccess.inScope({ tenantId: input.tenantId }, (tx) => tx.execute("select 1")),',
          '  },',
          '});',
        ),
      ],
      noUnsafeCallSites,
    );
    for (const line of [5, 9, 12]) assertReported(violations, rules.resolverTakesAccessMode, path, line);
    assert.match(
      violations.find((violation) => violation.line === 9)?.message ?? '',
      /`chosen` \(from `args\.input\.tenantId`\)/,
    );
    assert.deepEqual(onlyRules(violations), [rules.resolverTakesAccessMode]);
  });

  it(`reports a portfolio read across clients named by client input [${rules.resolverTakesAccessMode}]`, () => {
    const path = 'subgraphs/accounting/src/portfolio-resolvers.ts';
    const violations = auditAccessModeScoping(
      [
        file(
          path,
          "import { authorizePortfolio } from '@numezis/runtime';",
          "import type { DataAccess, PortfolioAccess, SubgraphContext } from '@numezis/runtime';",
          'export const resolvers = (dataAccess: DataAccess) => ({',
          '  Query: {',
          '    books: (_: unknown, __: unknown, context: SubgraphContext) => {',
          "      const { access, permission } = authorizePortfolio(context.forwarded, 'Query.portfolioBooks');",
          '      return dataAccess.inPortfolio(access, permission, (tx) => tx.execute("select 1"));',
          '    },',
          '    forged: (_: unknown, { portfolio }: { portfolio: PortfolioAccess }) =>',
          '      dataAccess.inPortfolio(portfolio, \'accounting.read\', (tx) => tx.execute("select 1")),',
          '    widened: (_: unknown, args: { clients: PortfolioAccess["clients"] }, context: SubgraphContext) => {',
          "      const { access } = authorizePortfolio(context.forwarded, 'Query.portfolioBooks');",
          "      return dataAccess.inPortfolio({ ...access, clients: args.clients }, 'accounting.read', async () => 1);",
          '    },',
          '  },',
          '});',
        ),
      ],
      noUnsafeCallSites,
    );
    for (const line of [10, 13]) assertReported(violations, rules.resolverTakesAccessMode, path, line);
    assert.equal(violations.length, 2, violations.map(formatViolation).join('\n'));
  });

  it(`reports a write whose tenantId is client input [${rules.tenantFromInput}]`, () => {
    const path = 'subgraphs/documents/src/leaky-writes.ts';
    const violations = auditAccessModeScoping(
      [
        file(
          path,
          "import { authorize } from '@numezis/runtime';",
          "import type { DataAccess, SubgraphContext } from '@numezis/runtime';",
          "import { documents } from './tables.ts';",
          'export const resolvers = (dataAccess: DataAccess) => ({',
          '  Mutation: {',
          '    upload: (_: unknown, { input }: { input: { tenantId: string; name: string } }, context: SubgraphContext) => {',
          "      const tenantId = authorize(context.forwarded, 'Mutation.uploadDocument');",
          '      return dataAccess.inTenant(tenantId, async (tx) => {',
          '        await tx.insert(documents).values({ tenantId: input.tenantId, name: input.name });',
          '        const owner = input.tenantId;',
          '        await tx.update(documents).set({ tenantId: owner });',
          '      });',
          '    },',
          '  },',
          '});',
        ),
      ],
      noUnsafeCallSites,
    );
    for (const line of [9, 11]) assertReported(violations, rules.tenantFromInput, path, line);
    assert.deepEqual(onlyRules(violations), [rules.tenantFromInput]);
  });

  it(`reports process.env outside configuration and entry points [${rules.processEnv}]`, () => {
    const path = 'gateway/src/feature-flags.ts';
    const violations = auditAccessModeScoping(
      [
        file(path, 'export const verbose = () => {', "  return process.env.VERBOSE === '1';", '};'),
        file('gateway/src/config.ts', 'export const port = () => process.env.PORT;'),
        file('gateway/src/main.ts', 'export const env = process.env;'),
        file('subgraphs/runtime/src/context/rotate-cli.ts', 'export const key = process.env.KEY;'),
      ],
      noUnsafeCallSites,
    );
    assertReported(violations, rules.processEnv, path, 2);
    assert.equal(violations.length, 1, violations.map(formatViolation).join('\n'));
  });

  it('skips tests and the data layer, and reports every rule in an audited file', () => {
    const everything = [
      "import pg from 'pg';",
      "import type { Db } from '../db/database.ts';",
      'export const run = (db: Db, dataAccess: { unsafeUnscoped: (work: () => void) => void }) => {',
      '  dataAccess.unsafeUnscoped(() => undefined);',
      '  return [pg, db, process.env.X];',
      '};',
    ];
    const skipped = [
      file('subgraphs/runtime/src/db/extra.ts', ...everything),
      file('subgraphs/runtime/src/testing/extra.ts', ...everything),
      file('subgraphs/runtime/src/stack/extra.ts', ...everything),
      file('subgraphs/runtime/src/audits/extra.ts', ...everything),
      file('subgraphs/identity/src/extra.test.ts', ...everything),
      file('test/e2e/extra.ts', ...everything),
    ];
    assert.deepEqual(auditAccessModeScoping(skipped, noUnsafeCallSites), []);
    const audited = auditAccessModeScoping([file('subgraphs/audit/src/extra.ts', ...everything)], noUnsafeCallSites);
    assert.deepEqual(
      onlyRules(audited).sort(),
      [rules.driverOutsideDataLayer, rules.processEnv, rules.rawDatabase, rules.unsafePathAllowlisted].sort(),
    );
  });
});
