import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keysCli, parseKeyCommand } from './key-commands.ts';

const workspace = '0b6f3d0e-6f1b-4c55-9d0a-6c1f2a8e4b11';

describe('key command line', () => {
  it('takes the five commands, with a workspace id exactly where one is needed', () => {
    assert.deepEqual(parseKeyCommand(['rewrap']), { name: 'rewrap' });
    assert.deepEqual(parseKeyCommand(['rotate-service-key']), { name: 'rotate-service-key' });
    for (const name of ['rotate', 'reencrypt', 'shred'] as const) {
      assert.deepEqual(parseKeyCommand([name, workspace]), { name, tenantId: workspace });
    }
  });

  it('names what is wrong with any other command line', () => {
    assert.deepEqual(parseKeyCommand([]), { problem: 'no command given' });
    assert.deepEqual(parseKeyCommand(['destroy', workspace]), { problem: 'unknown command "destroy"' });
    assert.deepEqual(parseKeyCommand(['shred']), { problem: 'shred needs a workspace id (a UUID)' });
    assert.deepEqual(parseKeyCommand(['shred', "x' OR 1=1"]), { problem: 'shred needs a workspace id (a UUID)' });
    assert.deepEqual(parseKeyCommand(['rewrap', workspace]), { problem: 'rewrap takes no workspace id' });
    assert.deepEqual(parseKeyCommand(['rotate', workspace, 'now']), { problem: 'unexpected argument "now"' });
  });

  it('stops at a bad setting, naming it, before it opens anything', async () => {
    const errors: string[] = [];
    const code = await keysCli(
      ['rewrap'],
      { NODE_ENV: 'production', KMS_PROVIDER: 'local' },
      [{ service: { name: 'accounting', defaultDataDir: '/nonexistent/accounting' }, workspaceKeys: true }],
      { out: () => assert.fail('nothing runs'), err: (line) => errors.push(line) },
    );
    assert.equal(code, 2);
    assert.match(errors.join('\n'), /KMS_PROVIDER=local is refused when NODE_ENV=production/);
    assert.match(errors.join('\n'), /ACCOUNTING_DATABASE_URL and ACCOUNTING_MIGRATION_DATABASE_URL are required/);
  });
});
