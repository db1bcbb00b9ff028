import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { filesystemBlobStore } from './blob-store.ts';
import type { BlobStore } from './blob-store.ts';

async function* parts(...values: string[]): AsyncGenerator<Buffer> {
  for (const value of values) yield Buffer.from(value);
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('filesystemBlobStore', () => {
  let root: string;
  let store: BlobStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'numezis-blobs-'));
    store = filesystemBlobStore(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('stores, reads back and deletes content under its key', async () => {
    const key = `${randomUUID()}/${randomUUID()}`;
    await store.put(key, parts('%PDF-', '1.7\n', 'body'));
    const stored = await store.get(key);
    assert.ok(stored !== null);
    assert.equal(await text(stored), '%PDF-1.7\nbody');
    assert.equal(await readFile(join(root, key), 'utf8'), '%PDF-1.7\nbody');
    assert.equal((await stat(join(root, key))).mode & 0o777, 0o600);
    await store.delete(key);
    assert.equal(await store.get(key), null);
    await store.delete(key);
  });

  it('leaves nothing behind when the content fails midway', async () => {
    const key = `${randomUUID()}/${randomUUID()}`;
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('%PDF-1.7\n');
      throw new Error('client went away');
    }
    const before = await filesUnder(root);
    await assert.rejects(store.put(key, failing()), /client went away/);
    assert.equal(await store.get(key), null);
    assert.deepEqual(await filesUnder(root), before);
  });

  it('refuses keys that could leave its folder', async () => {
    for (const key of ['../escape', '/etc/passwd', 'a/../../b', 'A/B', 'a//b', '', 'a/b/c/d/e', 'a\\b']) {
      await assert.rejects(store.put(key, parts('x')), /invalid blob key/, key);
      await assert.rejects(store.get(key), /invalid blob key/, key);
      await assert.rejects(store.delete(key), /invalid blob key/, key);
    }
  });
});
