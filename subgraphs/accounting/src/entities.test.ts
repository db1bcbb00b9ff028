import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  contextHeader,
  createContextSigner,
  createSubgraphService,
  createTestDatabases,
  generateContextKeyPair,
  parseSigningKey,
  readSubgraphConfig,
  systemClock,
} from '@numezis/runtime';
import type { SubgraphService, TestDatabases } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';
import * as files from './paths.ts';

const keys = generateContextKeyPair('k1');
const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });
const tenantA = randomUUID();
const tenantB = randomUUID();

describe('accounting entity resolution', () => {
  let databases: TestDatabases;
  let service: SubgraphService;
  const statements: string[] = [];

  const post = async (tenantId: string, query: string, variables: Record<string, unknown> = {}) => {
    const token = signer.sign(
      { requestId: randomUUID(), clientIp: '127.0.0.1', userAgent: null, actor: { kind: 'anonymous' }, tenantId },
      'accounting',
    );
    const response = await service.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { [contextHeader]: token, 'content-type': 'application/json' },
      payload: { query, variables },
    });
    return response.json<{ data?: Record<string, unknown>; errors?: unknown[] }>();
  };

  before(async () => {
    databases = await createTestDatabases(process.env, ['accounting']);
    const config = readSubgraphConfig(
      { CONTEXT_VERIFY_KEYS: keys.verifyKey, LOG_LEVEL: 'warn' },
      { name: 'accounting', defaultPort: 0, defaultDataDir: files.defaultDataDir },
    );
    service = await createSubgraphService(
      accountingSubgraph,
      { ...config, database: databases.settingsFor('accounting') },
      { onQuery: (statement) => statements.push(statement) },
    );
  });

  after(async () => {
    await service.close();
    await databases.dispose();
  });

  it('resolves many references with one query, and only the active workspace’s', async () => {
    const ids: string[] = [];
    for (const number of ['1000', '1020', '1100']) {
      const result = await post(
        tenantA,
        `mutation { createAccount(input: { number: "${number}", name: "A", type: ASSET }) { id } }`,
      );
      ids.push((result.data?.createAccount as { id: string }).id);
    }
    const representations = [...ids, randomUUID()].map((id) => ({ __typename: 'Account', id }));
    const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id number } } }';

    statements.length = 0;
    const asA = await post(tenantA, entities, { r: representations });
    assert.deepEqual(asA.data?._entities, [
      { id: ids[0], number: '1000' },
      { id: ids[1], number: '1020' },
      { id: ids[2], number: '1100' },
      null,
    ]);
    assert.equal(statements.filter((statement) => /from "accounting"\."accounts"/i.test(statement)).length, 1);

    const asB = await post(tenantB, entities, { r: representations });
    assert.deepEqual(asB.data?._entities, [null, null, null, null]);
  });
});
