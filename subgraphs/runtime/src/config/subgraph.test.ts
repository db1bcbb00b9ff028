import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateContextKeyPair } from '../context/signed-context.ts';
import { ConfigError } from './reader.ts';
import { readSubgraphConfig } from './subgraph.ts';

const service = { name: 'accounting', defaultPort: 4002, defaultDataDir: '/tmp/accounting' };
const keys = { CONTEXT_VERIFY_KEYS: generateContextKeyPair('k1').verifyKey };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readSubgraphConfig(env, service);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('subgraph configuration', () => {
  it('defaults to loopback, its own port and embedded PGlite outside production', () => {
    const config = readSubgraphConfig(keys, service);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 4002);
    assert.deepEqual(config.database, { kind: 'pglite', dataDir: '/tmp/accounting' });
    assert.ok(Object.isFrozen(config));
  });

  it('reads a PostgreSQL server as two roles', () => {
    const config = readSubgraphConfig(
      {
        ...keys,
        ACCOUNTING_DATABASE_URL: 'postgres://app@db/numezis',
        ACCOUNTING_MIGRATION_DATABASE_URL: 'postgres://owner@db/numezis',
      },
      service,
    );
    assert.equal(config.database.kind, 'postgres');
  });

  it('reports every bad setting at once, each by its name', () => {
    const problems = problemsOf({
      ACCOUNTING_PORT: 'eighty',
      NODE_ENV: 'staging',
      ACCOUNTING_DATABASE_URL: 'mysql://x',
    });
    for (const name of ['ACCOUNTING_PORT', 'NODE_ENV', 'CONTEXT_VERIFY_KEYS', 'ACCOUNTING_MIGRATION_DATABASE_URL']) {
      assert.ok(
        problems.some((problem) => problem.includes(name)),
        `${name} missing from ${problems.join(' | ')}`,
      );
    }
  });

  it('refuses the embedded database and a shifted clock in production', () => {
    const problems = problemsOf({ ...keys, NODE_ENV: 'production', NUMEZIS_CLOCK_OFFSET_MS: '60000' });
    assert.ok(problems.some((problem) => problem.startsWith('ACCOUNTING_DATABASE_URL')));
    assert.ok(problems.some((problem) => problem.startsWith('NUMEZIS_CLOCK_OFFSET_MS')));
  });

  it('shifts its clock outside production when told to', () => {
    const config = readSubgraphConfig({ ...keys, NUMEZIS_CLOCK_OFFSET_MS: '3600000' }, service);
    assert.ok(config.clock.now() - Date.now() > 3_590_000);
  });
});
