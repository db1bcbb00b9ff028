import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { auditOutboxMigrationSql } from './outbox.ts';

const shipped: readonly [string, string][] = [
  ['identity', '../../../identity/migrations/0013_audit_outbox.sql'],
  ['documents', '../../../documents/migrations/0004_audit_outbox.sql'],
  ['accounting', '../../../accounting/migrations/0005_audit_outbox.sql'],
];

it('every service ships its audit outbox migration exactly as the runtime generates it', async () => {
  for (const [service, file] of shipped) {
    assert.equal(await readFile(new URL(file, import.meta.url), 'utf8'), auditOutboxMigrationSql(service), service);
  }
});
