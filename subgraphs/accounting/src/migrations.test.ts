import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { dataKeysMigrationSql } from '@numezis/runtime';
import { migrationsDir } from './paths.ts';

it('ships the data keys migration exactly as the runtime generates it', async () => {
  assert.equal(
    await readFile(new URL('0003_data_keys.sql', migrationsDir), 'utf8'),
    dataKeysMigrationSql('accounting'),
  );
});
