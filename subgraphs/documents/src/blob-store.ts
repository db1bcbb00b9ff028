import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where file contents live, apart from their metadata in PostgreSQL. Keys are made by the service
 * (workspace id and document id), never from anything a client sent. The filesystem store below is
 * the default; a cloud bucket fits the same three calls (a multipart upload that is aborted on
 * error, a ranged GET, a DELETE).
 */
export interface BlobStore {
  /**
   * Stores `content` under `key`, all or nothing: when `content` throws (a refused or aborted
   * upload) nothing is left behind, under the key or anywhere else. Memory use does not depend on
   * the size of the content.
   */
  put(key: string, content: AsyncIterable<Uint8Array>): Promise<void>;
  /** The stored bytes, or null when nothing is stored under `key`. */
  get(key: string): Promise<Readable | null>;
  /** Removes what is stored under `key`; a missing key is no error. */
  delete(key: string): Promise<void>;
}

// Lower-case letters, digits and dashes per segment: a key can never climb out of the root folder.
const keyPattern = /^[a-z0-9][a-z0-9-]{0,63}(\/[a-z0-9][a-z0-9-]{0,63}){0,3}$/;

export function assertBlobKey(key: string): void {
  if (!keyPattern.test(key)) throw new Error('invalid blob key');
}

/**
 * Files under `root`, one per key. A file is written under `.tmp/` and renamed into place only once
 * complete and flushed to disk, so a reader never sees half a file and a failed upload leaves none.
 */
export function filesystemBlobStore(root: string): BlobStore {
  const temporaryDir = join(root, '.tmp');
  const pathOf = (key: string) => {
    assertBlobKey(key);
    return join(root, ...key.split('/'));
  };
  return {
    async put(key, content) {
      const target = pathOf(key);
      await mkdir(temporaryDir, { recursive: true, mode: 0o700 });
      const temporary = join(temporaryDir, randomUUID());
      let handle: FileHandle | undefined = await open(temporary, 'wx', 0o600);
      try {
        // One chunk in flight at a time: the source is read no faster than the disk takes it.
        for await (const chunk of content) await handle.write(chunk);
        await handle.sync();
        await handle.close();
        handle = undefined;
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await rename(temporary, target);
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
      await syncDirectory(dirname(target));
    },
    async get(key) {
      const handle = await open(pathOf(key), 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      return handle?.createReadStream() ?? null;
    },
    async delete(key) {
      await unlink(pathOf(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
  };
}

// A rename is durable only once its directory is flushed too; receipts must survive a power cut.
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
