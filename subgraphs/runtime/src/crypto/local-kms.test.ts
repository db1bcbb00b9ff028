import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { KmsError } from './kms.ts';
import { addLocalKmsVersion, destroyLocalKmsVersion, openLocalKms } from './local-kms.ts';
import { Secret } from './secret.ts';

describe('local KMS', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'numezis-local-kms-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const aad = Buffer.from('tenant:11111111-1111-4111-8111-111111111111');

  it('creates its key file on first start, readable by its owner only, and reads it afterwards', async () => {
    const keyFile = join(dir, 'nested', 'kms-key.json');
    const first = await openLocalKms({ environment: 'development', keyFile });
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'nested'))).mode & 0o077, 0);
    const wrapped = await first.encrypt(Buffer.from('data key'), aad);
    assert.equal(wrapped.keyVersion, 'local/cryptoKeyVersions/1');

    const second = await openLocalKms({ environment: 'test', keyFile });
    assert.equal((await second.decrypt(wrapped.ciphertext, aad)).toString(), 'data key');
  });

  it('is created once when services start together: none reads a half-written file, all share one key', async () => {
    const keyFile = join(dir, 'together', 'kms-key.json');
    // Separate processes, as the services of a stack are: each opens the file and wraps a key.
    const script = `
      const { openLocalKms } = await import(${JSON.stringify(new URL('./local-kms.ts', import.meta.url).href)});
      const kms = await openLocalKms({ environment: 'development', keyFile: process.argv[1] });
      const wrapped = await kms.encrypt(Buffer.from('shared'), Buffer.from('aad'));
      process.stdout.write(wrapped.ciphertext.toString('base64'));`;
    const wraps = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            execFile(process.execPath, ['--input-type=module', '-e', script, keyFile], (error, stdout, stderr) =>
              error === null ? resolve(stdout) : reject(new Error(stderr)),
            );
          }),
      ),
    );
    const kms = await openLocalKms({ environment: 'development', keyFile });
    for (const wrapped of wraps) {
      assert.equal((await kms.decrypt(Buffer.from(wrapped, 'base64'), Buffer.from('aad'))).toString(), 'shared');
    }
    assert.deepEqual(await readdir(join(dir, 'together')), ['kms-key.json']);
  });

  it('refuses to run when the environment says production', async () => {
    await assert.rejects(openLocalKms({ environment: 'production', keyFile: join(dir, 'prod.json') }), KmsError);
    await assert.rejects(
      openLocalKms({ environment: 'production', masterKey: new Secret(randomBytes(32)) }),
      /NODE_ENV=production/,
    );
    await assert.rejects(stat(join(dir, 'prod.json')), { code: 'ENOENT' });
  });

  it('refuses a key file that others can read', async () => {
    const keyFile = join(dir, 'loose.json');
    await openLocalKms({ environment: 'development', keyFile });
    await chmod(keyFile, 0o644);
    await assert.rejects(openLocalKms({ environment: 'development', keyFile }), /chmod 600/);
  });

  it('uses a master key from the setting instead of a file', async () => {
    const masterKey = new Secret(randomBytes(32));
    const kms = await openLocalKms({ environment: 'development', masterKey });
    const again = await openLocalKms({ environment: 'development', masterKey });
    const wrapped = await kms.encrypt(Buffer.from('k'), aad);
    assert.equal((await again.decrypt(wrapped.ciphertext, aad)).toString(), 'k');
    const other = await openLocalKms({ environment: 'development', masterKey: new Secret(randomBytes(32)) });
    await assert.rejects(other.decrypt(wrapped.ciphertext, aad), KmsError);
  });

  it('fails on another AAD and on any changed byte', async () => {
    const kms = await openLocalKms({ environment: 'development', masterKey: new Secret(randomBytes(32)) });
    const wrapped = await kms.encrypt(Buffer.from('data key'), aad);
    await assert.rejects(kms.decrypt(wrapped.ciphertext, Buffer.from('tenant:other')), KmsError);
    for (let index = 0; index < wrapped.ciphertext.length; index++) {
      const tampered = Buffer.from(wrapped.ciphertext);
      tampered[index] = (tampered[index] ?? 0) ^ 0x80;
      await assert.rejects(kms.decrypt(tampered, aad), KmsError, `byte ${index}`);
    }
  });

  it('rotates: new wraps use the new version, old ones decrypt until their version is destroyed', async () => {
    const keyFile = join(dir, 'rotating.json');
    const before = await openLocalKms({ environment: 'development', keyFile });
    const old = await before.encrypt(Buffer.from('old'), aad);
    assert.equal(await addLocalKmsVersion(keyFile), 'local/cryptoKeyVersions/2');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

    const rotated = await openLocalKms({ environment: 'development', keyFile });
    assert.equal(rotated.primaryVersion, 'local/cryptoKeyVersions/2');
    const fresh = await rotated.encrypt(Buffer.from('new'), aad);
    assert.equal(fresh.keyVersion, 'local/cryptoKeyVersions/2');
    assert.equal((await rotated.decrypt(old.ciphertext, aad)).toString(), 'old');

    await assert.rejects(destroyLocalKmsVersion(keyFile, 2), /primary/);
    await destroyLocalKmsVersion(keyFile, 1);
    const destroyed = await openLocalKms({ environment: 'development', keyFile });
    await assert.rejects(destroyed.decrypt(old.ciphertext, aad), /version 1 is not available/);
    assert.equal((await destroyed.decrypt(fresh.ciphertext, aad)).toString(), 'new');
  });

  it('never shows key material in its objects or errors', async () => {
    const bytes = randomBytes(32);
    const masterKey = new Secret(bytes);
    const kms = await openLocalKms({ environment: 'development', masterKey });
    const error = await kms.decrypt(Buffer.alloc(40), aad).catch((caught: unknown) => caught);
    const printed = [
      JSON.stringify(masterKey),
      String(masterKey),
      inspect(masterKey),
      JSON.stringify(kms),
      inspect(kms, { depth: 10, showHidden: true }),
      inspect(error, { depth: 10 }),
    ].join('\n');
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      assert.ok(!printed.includes(bytes.toString(encoding)), encoding);
    }
    assert.equal(JSON.stringify({ masterKey }), '{"masterKey":"[redacted]"}');
  });

  it('writes the key file as JSON that names its format', async () => {
    const keyFile = join(dir, 'format.json');
    await openLocalKms({ environment: 'development', keyFile });
    const content = JSON.parse(await readFile(keyFile, 'utf8')) as { format: string; primary: number };
    assert.equal(content.format, 'numezis-local-kms-v1');
    assert.equal(content.primary, 1);
  });
});
