import assert from 'node:assert/strict';
import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DataKeyNotFoundError,
  dataKeysMigrationSql,
  KmsError,
  manualClock,
  startInProcessSubgraph,
} from '@numezis/runtime';
import type { InProcessSubgraph, Keyring } from '@numezis/runtime';
import { DataKey } from '@numezis/runtime/crypto/keyring';
import type { DocumentsSettings } from './config.ts';
import { createDocumentsSubgraph } from './definition.ts';
import {
  chunkBytes,
  headerBytes,
  openDocumentFile,
  recordBytes,
  sealDocumentFile,
  StoredFileCorrupt,
} from './file-encryption.ts';
import type { FilePlace } from './file-encryption.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
const newKey = (tenantId: string, version = 1) =>
  new DataKey(tenantId, 'field', version, createSecretKey(randomBytes(32)));

async function* piecesOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

/** A PDF of `size` bytes: the signature, then random bytes. */
function pdfOf(size: number): Buffer {
  const bytes = randomBytes(size);
  Buffer.from('%PDF-1.7\n', 'latin1').copy(bytes);
  return bytes;
}

describe('document file encryption', () => {
  const tenantId = randomUUID();
  const place: FilePlace = { tenantId, documentId: randomUUID() };
  const key = newKey(tenantId, 3);
  const keyFor = async (version: number) => {
    if (version !== key.version) throw new DataKeyNotFoundError(tenantId, 'field', version);
    return key;
  };
  const seal = async (plaintext: Buffer, at = place, pieceBytes = 10_000) =>
    Buffer.concat(await collect(sealDocumentFile(piecesOf(plaintext, pieceBytes), key, at)));
  const open = (stored: Buffer, plaintext: Buffer, at = place, pieceBytes = 8_192) =>
    collect(
      openDocumentFile(piecesOf(stored, pieceBytes), keyFor, at, { size: plaintext.length, sha256: sha256(plaintext) }),
    );
  /** Opens `stored`, expecting it to fail; returns how many chunks were released before it did. */
  async function refused(stored: Buffer, plaintext: Buffer, at = place): Promise<number> {
    const released: Buffer[] = [];
    const opening = openDocumentFile(piecesOf(stored, 8_192), keyFor, at, {
      size: plaintext.length,
      sha256: sha256(plaintext),
    });
    await assert.rejects(async () => {
      for await (const chunk of opening) released.push(chunk);
    }, StoredFileCorrupt);
    return released.length;
  }

  it('round-trips files of every length around the chunk size, in chunks of at most one chunk', async () => {
    for (const size of [0, 1, chunkBytes - 1, chunkBytes, chunkBytes + 1, 3 * chunkBytes + 5]) {
      const plaintext = randomBytes(size);
      for (const pieceBytes of [7_001, 1 << 20]) {
        const stored = await seal(plaintext, place, pieceBytes);
        const records = Math.max(1, Math.ceil(size / chunkBytes));
        assert.equal(stored.length, headerBytes + size + records * (recordBytes - chunkBytes), `${size}`);
        assert.deepEqual(stored.subarray(0, headerBytes), Buffer.from('NZD1\x00\x00\x00\x03', 'latin1'));
        for (const openPieces of [1_000, 1 << 20]) {
          const chunks = await open(stored, plaintext, place, openPieces);
          assert.ok(chunks.every((chunk) => chunk.length <= chunkBytes));
          assert.deepEqual(Buffer.concat(chunks), plaintext, `${size}`);
        }
      }
    }
  });

  it('uses a fresh IV for every chunk of every file', async () => {
    const plaintext = Buffer.alloc(3 * chunkBytes);
    const ivs = new Set<string>();
    for (const stored of [await seal(plaintext), await seal(plaintext)]) {
      for (let offset = headerBytes; offset < stored.length; offset += recordBytes) {
        ivs.add(stored.subarray(offset, offset + 12).toString('hex'));
      }
    }
    assert.equal(ivs.size, 6);
  });

  it('refuses a changed byte anywhere, releasing nothing of the bad chunk or after it', async () => {
    const plaintext = randomBytes(3 * chunkBytes + 100);
    const stored = await seal(plaintext);
    const record = (index: number) => headerBytes + index * recordBytes;
    const positions: [number, number][] = [
      [0, 0], // magic
      [headerBytes - 1, 0], // DEK version
      [record(0), 0], // IV
      [record(0) + 500, 0], // ciphertext
      [record(1) - 1, 0], // tag
      [record(2) + 12, 2],
      [record(3) + 40, 3],
      [stored.length - 1, 3],
    ];
    for (const [position, releasedBefore] of positions) {
      const tampered = Buffer.from(stored);
      tampered[position] = (tampered[position] ?? 0) ^ 0x01;
      assert.equal(await refused(tampered, plaintext), releasedBefore, `byte ${position}`);
    }
  });

  it('refuses a file cut short, extended, reordered or with a record repeated', async () => {
    const plaintext = randomBytes(3 * chunkBytes + 100);
    const stored = await seal(plaintext);
    const records = [0, 1, 2, 3].map((index) =>
      stored.subarray(headerBytes + index * recordBytes, headerBytes + (index + 1) * recordBytes),
    );
    const header = stored.subarray(0, headerBytes);
    const [r0, r1, r2, r3] = records as [Buffer, Buffer, Buffer, Buffer];
    for (const cut of [0, 3, headerBytes, headerBytes + 1, headerBytes + recordBytes, headerBytes + 2 * recordBytes]) {
      await refused(stored.subarray(0, cut), plaintext);
    }
    await refused(stored.subarray(0, stored.length - 1), plaintext);
    for (const variant of [
      [header, r0, r1, r3],
      [header, r0, r2, r1, r3],
      [header, r0, r1, r1, r2, r3],
      [header, r0, r1, r2, r3, r3],
      [header, r1, r0, r2, r3],
    ]) {
      await refused(Buffer.concat(variant), plaintext);
    }
    // A plaintext file, as stored before encryption: never served.
    await refused(plaintext, plaintext);
  });

  it("refuses another document's or another workspace's file, and a mismatch with the metadata", async () => {
    const plaintext = randomBytes(chunkBytes + 1);
    const stored = await seal(plaintext);
    assert.equal(await refused(stored, plaintext, { tenantId, documentId: randomUUID() }), 0);
    const otherTenant = randomUUID();
    const foreignKey = newKey(otherTenant, 3);
    const foreign = Buffer.concat(
      await collect(sealDocumentFile(piecesOf(plaintext, 4096), foreignKey, { ...place, tenantId: otherTenant })),
    );
    assert.equal(await refused(foreign, plaintext), 0);
    // A key only serves its own workspace.
    assert.throws(() => key.sealBytes({ tenantId: otherTenant }, plaintext, Buffer.alloc(0)), /own workspace/);
    for (const expected of [
      { size: plaintext.length, sha256: sha256(Buffer.alloc(1)) },
      { size: plaintext.length - 1, sha256: sha256(plaintext) },
      { size: plaintext.length + 1, sha256: sha256(plaintext) },
    ]) {
      const opening = openDocumentFile(piecesOf(stored, 4096), keyFor, place, expected);
      await assert.rejects(collect(opening), StoredFileCorrupt);
    }
  });

  it('opens with the key version the header names; a missing version is corruption, a KMS failure is not', async () => {
    const plaintext = randomBytes(100);
    const stored = await seal(plaintext);
    const calls: number[] = [];
    const chunks = await collect(
      openDocumentFile(
        piecesOf(stored, 3),
        async (version) => {
          calls.push(version);
          return key;
        },
        place,
        { size: plaintext.length, sha256: sha256(plaintext) },
      ),
    );
    assert.deepEqual([Buffer.concat(chunks), calls], [plaintext, [3]]);
    const relabelled = Buffer.from(stored);
    relabelled.writeUInt32BE(9, 4);
    await assert.rejects(
      collect(openDocumentFile(piecesOf(relabelled, 64), keyFor, place, { size: 100, sha256: sha256(plaintext) })),
      (error) => error instanceof StoredFileCorrupt && /no data key v9/.test(error.message),
    );
    const kmsDown = async () => {
      throw new KmsError('kms unavailable');
    };
    await assert.rejects(
      collect(openDocumentFile(piecesOf(stored, 64), kmsDown, place, { size: 100, sha256: sha256(plaintext) })),
      KmsError,
    );
  });
});

describe('document files at rest', () => {
  let subgraph: InProcessSubgraph;
  let keyring: Keyring | undefined;
  let blobDir: string;
  const tenant = randomUUID();
  const clock = manualClock(Date.now());

  before(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'numezis-encrypted-files-'));
    const settings: DocumentsSettings = {
      maxUploadBytes: 1024 * 1024,
      blobDir,
      uploadTicketTtlMs: 10 * 60_000,
      downloadLinkTtlMs: 5 * 60_000,
    };
    const definition = createDocumentsSubgraph(settings, clock);
    subgraph = await startInProcessSubgraph(
      {
        ...definition,
        mountGraphQL: (app, dependencies) => {
          keyring = dependencies.encryption.keyring;
          return definition.mountGraphQL(app, dependencies);
        },
      },
      { env: process.env },
    );
  });
  after(async () => {
    await subgraph.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  const fileOf = (tenantId: string, documentId: string) => join(blobDir, tenantId, documentId);

  async function upload(tenantId: string, content: Buffer): Promise<string> {
    const result = await subgraph.post(
      tenantId,
      'mutation { createDocumentUpload(input: { fileName: "scan.pdf" }) { uploadUrl } }',
    );
    const { uploadUrl } = result.data?.createDocumentUpload as { uploadUrl: string };
    const response = await subgraph.inject(tenantId, {
      method: 'PUT',
      url: '/internal/uploads',
      headers: { 'x-numezis-ticket': uploadUrl.split('/').at(-1) ?? '', 'content-type': 'application/pdf' },
      payload: content,
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json<{ document: { id: string } }>().document.id;
  }

  /** Downloads through a fresh link: the answer, or the error a broken transfer gave. */
  async function download(tenantId: string, documentId: string) {
    const result = await subgraph.post(tenantId, 'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }', {
      variables: { id: documentId },
    });
    const { url } = result.data?.createDocumentDownload as { url: string };
    return subgraph
      .inject(tenantId, {
        method: 'GET',
        url: '/internal/downloads',
        headers: { 'x-numezis-ticket': url.split('/').at(-1) ?? '' },
      })
      .catch((error: unknown) => error as Error);
  }

  async function assertCorruptBeforeFirstByte(tenantId: string, documentId: string) {
    const response = await download(tenantId, documentId);
    assert.ok(!(response instanceof Error), response instanceof Error ? response.message : '');
    assert.equal(response.statusCode, 500);
    const body = response.json<{ errors: { extensions: Record<string, unknown> }[] }>();
    assert.deepEqual(
      [body.errors[0]?.extensions.code, body.errors[0]?.extensions.reason],
      ['INTERNAL_SERVER_ERROR', 'STORED_FILE_CORRUPT'],
    );
  }

  /** The answer starts (status and headers go out), then the response is destroyed: never a complete file. */
  async function assertBrokenMidway(tenantId: string, documentId: string) {
    const response = await download(tenantId, documentId);
    assert.ok(response instanceof Error, `status ${response instanceof Error ? '' : response.statusCode}`);
    assert.match(response.message, /destroyed before completion/);
  }

  it('ships the data_keys migration its helper generates', async () => {
    const shipped = await readFile(new URL('../migrations/0003_data_keys.sql', import.meta.url), 'utf8');
    assert.equal(shipped, dataKeysMigrationSql('documents'));
  });

  it('stores a multi-chunk scan encrypted and serves it back byte for byte', async () => {
    const scan = pdfOf(200 * 1024);
    const id = await upload(tenant, scan);
    const stored = await readFile(fileOf(tenant, id));
    assert.deepEqual(stored.subarray(0, headerBytes), Buffer.from('NZD1\x00\x00\x00\x01', 'latin1'));
    assert.equal(stored.length, headerBytes + scan.length + 4 * (recordBytes - chunkBytes));
    assert.ok(!stored.includes(Buffer.from('%PDF')));
    for (let offset = 0; offset < scan.length; offset += 4096) {
      assert.ok(!stored.includes(scan.subarray(offset, offset + 32)), `plaintext at ${offset} is stored`);
    }
    const response = await download(tenant, id);
    assert.ok(!(response instanceof Error));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.rawPayload, scan);
    assert.equal(response.headers['repr-digest'], `sha-256=:${sha256(scan).toString('base64')}:`);
  });

  it('fails loudly on a changed byte: an error status early, a broken transfer later', async () => {
    const scan = pdfOf(200 * 1024);
    const early = await upload(tenant, scan);
    const late = await upload(tenant, scan);
    for (const [id, position] of [
      [early, headerBytes + 100],
      [late, headerBytes + 2 * recordBytes + 100],
    ] as const) {
      const stored = await readFile(fileOf(tenant, id));
      stored[position] = (stored[position] ?? 0) ^ 0x80;
      await writeFile(fileOf(tenant, id), stored);
    }
    await assertCorruptBeforeFirstByte(tenant, early);
    await assertBrokenMidway(tenant, late);
  });

  it('fails loudly on a file cut off at a chunk boundary', async () => {
    const scan = pdfOf(200 * 1024);
    const [one, two] = [await upload(tenant, scan), await upload(tenant, scan)];
    const stored = await readFile(fileOf(tenant, one));
    await writeFile(fileOf(tenant, one), stored.subarray(0, headerBytes + recordBytes));
    await writeFile(fileOf(tenant, two), stored.subarray(0, headerBytes + 3 * recordBytes));
    await assertCorruptBeforeFirstByte(tenant, one);
    // Records sealed for document one do not open as document two's, even its first.
    await assertCorruptBeforeFirstByte(tenant, two);
    const three = await upload(tenant, scan);
    const own = await readFile(fileOf(tenant, three));
    await writeFile(fileOf(tenant, three), own.subarray(0, headerBytes + 3 * recordBytes));
    await assertBrokenMidway(tenant, three);
  });

  it("refuses another document's file, from the same or another workspace, and a plaintext file", async () => {
    const other = randomUUID();
    const [mine, theirs] = [pdfOf(1000), pdfOf(1000)];
    const a = await upload(tenant, mine);
    const b = await upload(tenant, mine);
    const c = await upload(other, theirs);
    const [fileA, fileC] = [await readFile(fileOf(tenant, a)), await readFile(fileOf(other, c))];
    await writeFile(fileOf(tenant, b), fileA);
    await writeFile(fileOf(tenant, a), fileC);
    await assertCorruptBeforeFirstByte(tenant, a);
    await assertCorruptBeforeFirstByte(tenant, b);
    await writeFile(fileOf(other, c), theirs);
    await assertCorruptBeforeFirstByte(other, c);
  });

  it('still serves a file sealed under an earlier key version after rotation', async () => {
    const workspace = randomUUID();
    const before = pdfOf(150 * 1024);
    const old = await upload(workspace, before);
    assert.ok(keyring !== undefined);
    assert.equal((await keyring.rotate(workspace)).version, 2);
    const after = pdfOf(1000);
    const fresh = await upload(workspace, after);
    assert.equal((await readFile(fileOf(workspace, old))).readUInt32BE(4), 1);
    assert.equal((await readFile(fileOf(workspace, fresh))).readUInt32BE(4), 2);
    for (const [id, content] of [
      [old, before],
      [fresh, after],
    ] as const) {
      const response = await download(workspace, id);
      assert.ok(!(response instanceof Error));
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.rawPayload, content);
    }
  });
});
