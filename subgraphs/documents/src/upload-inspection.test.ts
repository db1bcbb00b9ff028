import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspectUpload, UploadRefused } from './upload-inspection.ts';

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
}

async function readAll(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of content) parts.push(part);
  return Buffer.concat(parts);
}

async function refusal(content: AsyncIterable<Buffer>): Promise<string> {
  try {
    await readAll(content);
  } catch (error) {
    if (error instanceof UploadRefused) return error.reason;
    throw error;
  }
  assert.fail('expected a refusal');
}

describe('inspectUpload', () => {
  it('passes the bytes on unchanged and reports type, size and SHA-256', async () => {
    const file = Buffer.from('%PDF-1.4\nhello\n%%EOF\n', 'latin1');
    const inspection = inspectUpload(chunks(file.subarray(0, 3), file.subarray(3, 4), file.subarray(4)), 1024);
    assert.deepEqual(await readAll(inspection.content), file);
    assert.deepEqual(inspection.result(), {
      contentType: 'application/pdf',
      size: file.length,
      sha256: createHash('sha256').update(file).digest(),
    });
  });

  it('passes nothing on before the type is known, and nothing at all of a wrong type', async () => {
    const passed: Buffer[] = [];
    const inspection = inspectUpload(chunks('MZ', '\x90\0\x03\0', '\0\0\x04\0', 'more'), 1024);
    await assert.rejects(async () => {
      for await (const part of inspection.content) passed.push(part);
    }, UploadRefused);
    assert.deepEqual(passed, []);
  });

  it('stops reading at the chunk that exceeds the limit', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from('%PDF-1.7\n');
      for (;;) {
        pulled += 1;
        yield Buffer.alloc(1000);
      }
    }
    const passed: Buffer[] = [];
    const inspection = inspectUpload(endless(), 5000);
    await assert.rejects(async () => {
      for await (const part of inspection.content) passed.push(part);
    }, /FILE_TOO_LARGE/);
    assert.equal(pulled, 5);
    assert.ok(Buffer.concat(passed).length <= 5000);
  });

  it('accepts a file of exactly the limit', async () => {
    const file = Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(95)]);
    const inspection = inspectUpload(chunks(file), 100);
    assert.equal((await readAll(inspection.content)).length, 100);
    assert.equal(inspection.result().size, 100);
  });

  it('names empty files, and judges files shorter than the longest signature on what there is', async () => {
    assert.equal(await refusal(inspectUpload(chunks(), 1024).content), 'EMPTY_FILE');
    assert.equal(await refusal(inspectUpload(chunks('MZ'), 1024).content), 'UNSUPPORTED_FILE_TYPE');
    const tiny = inspectUpload(chunks('%PDF-'), 1024);
    assert.equal((await readAll(tiny.content)).toString(), '%PDF-');
    assert.equal(tiny.result().contentType, 'application/pdf');
  });

  it('has no result before the content is read to its end', () => {
    assert.throws(() => inspectUpload(chunks('%PDF-'), 1024).result(), /not been read/);
  });
});
