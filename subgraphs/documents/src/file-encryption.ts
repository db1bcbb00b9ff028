import { createHash, timingSafeEqual } from 'node:crypto';
import { DataKeyNotFoundError, DecryptionError } from '@numezis/runtime';
import type { DataKey } from '@numezis/runtime';
import { canonicalAad, GCM_IV_BYTES, GCM_TAG_BYTES } from '@numezis/runtime/crypto/aes-gcm';

/**
 * How a document's file is stored: encrypted with AES-256-GCM under its workspace's `field` data
 * key, in chunks, so that neither writing nor reading ever holds more than one chunk in memory.
 *
 *     header:  "NZD1" (4 bytes) ‖ DEK version (uint32, big-endian)
 *     records: IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes), one per chunk of the plaintext
 *
 * Every record but the last holds exactly `chunkBytes` of plaintext; the last holds the rest (at
 * most `chunkBytes`, and a record is always there, even for no bytes at all). Each record has a
 * fresh random IV, and its AAD binds it to its place: format, workspace, document, DEK version,
 * index, and whether it is the last. Records cannot be reordered, dropped, repeated, cut off at a
 * record boundary, extended, or moved to another document or workspace without the tag check
 * failing. The DEK version in the header picks the key, so files stay readable after rotation.
 * Reading also recomputes the plaintext's size and SHA-256 and compares them with the stored ones
 * before the last chunk is released.
 */
export const fileFormat = 'NZD1';
export const chunkBytes = 64 * 1024;
const magic = Buffer.from(fileFormat, 'latin1');
export const headerBytes = magic.length + 4;
const recordOverhead = GCM_IV_BYTES + GCM_TAG_BYTES;
/** The stored length of a full record. */
export const recordBytes = chunkBytes + recordOverhead;

/** Which file a record belongs to. */
export interface FilePlace {
  readonly tenantId: string;
  readonly documentId: string;
}

/** What the metadata says the plaintext is. */
export interface ExpectedContent {
  readonly size: number;
  readonly sha256: Buffer;
}

/**
 * The stored bytes are not what was stored for this document: tampered with, cut short, swapped
 * with another file, or never encrypted. The message names the document, never its contents.
 */
export class StoredFileCorrupt extends Error {
  readonly documentId: string;
  constructor(documentId: string, detail: string, options?: { cause?: unknown }) {
    super(`the stored file of document ${documentId} failed its integrity check: ${detail}`, options);
    this.name = 'StoredFileCorrupt';
    this.documentId = documentId;
  }
}

function recordAad(place: FilePlace, dekVersion: number, index: number, last: boolean): Buffer {
  return canonicalAad([
    'numezis.document-file',
    fileFormat,
    place.tenantId,
    place.documentId,
    String(dekVersion),
    String(index),
    last ? 'last' : 'more',
  ]);
}

/**
 * The stored form of `source`, under `key` (the workspace's current `field` key). Memory use is one
 * chunk whatever the size of the file; an error of `source` passes through unchanged.
 */
export async function* sealDocumentFile(
  source: AsyncIterable<Uint8Array>,
  key: DataKey,
  place: FilePlace,
): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(headerBytes);
  magic.copy(header);
  header.writeUInt32BE(key.version, magic.length);
  yield header;
  let index = 0;
  const seal = (plaintext: Buffer, last: boolean) => {
    const { iv, ciphertext, tag } = key.sealBytes(place, plaintext, recordAad(place, key.version, index++, last));
    return Buffer.concat([iv, ciphertext, tag]);
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const bytes of source) {
    let rest = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (rest.length > 0) {
      // A full chunk is sealed only once more bytes show it is not the last.
      if (pendingBytes === chunkBytes) {
        yield seal(Buffer.concat(pending, pendingBytes), false);
        pending = [];
        pendingBytes = 0;
      }
      const taken = Math.min(chunkBytes - pendingBytes, rest.length);
      pending.push(rest.subarray(0, taken));
      pendingBytes += taken;
      rest = rest.subarray(taken);
    }
  }
  yield seal(Buffer.concat(pending, pendingBytes), true);
}

/** A queue of byte chunks from which exact lengths are taken. */
class ByteQueue {
  #parts: Buffer[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.length += bytes.length;
  }

  take(count: number): Buffer {
    const taken: Buffer[] = [];
    let needed = count;
    while (needed > 0) {
      const part = this.#parts[0];
      if (part === undefined) throw new RangeError('not enough bytes queued');
      if (part.length <= needed) {
        taken.push(part);
        this.#parts.shift();
        needed -= part.length;
      } else {
        taken.push(part.subarray(0, needed));
        this.#parts[0] = part.subarray(needed);
        needed = 0;
      }
    }
    this.length -= count;
    return taken.length === 1 && taken[0] !== undefined ? taken[0] : Buffer.concat(taken, count);
  }
}

/**
 * The plaintext of a stored file, one verified chunk at a time: no byte is released before its
 * chunk's tag checked out, and the last chunk only once the size and SHA-256 of the whole match
 * `expected`. Anything wrong with the stored bytes throws `StoredFileCorrupt`; a key that cannot be
 * loaded for another reason (KMS unavailable) throws as it is.
 */
export async function* openDocumentFile(
  source: AsyncIterable<Uint8Array>,
  keyFor: (dekVersion: number) => Promise<DataKey>,
  place: FilePlace,
  expected: ExpectedContent,
): AsyncGenerator<Buffer> {
  const corrupt = (detail: string, cause?: unknown) =>
    new StoredFileCorrupt(place.documentId, detail, cause === undefined ? {} : { cause });
  const queue = new ByteQueue();
  const hash = createHash('sha256');
  let key: DataKey | undefined;
  let index = 0;
  let size = 0;

  const open = (record: Buffer, last: boolean): Buffer => {
    if (key === undefined) throw corrupt('no header');
    if (record.length < recordOverhead) throw corrupt(`record ${index} is cut short`);
    let plaintext: Buffer;
    try {
      plaintext = key.openBytes(
        place,
        {
          iv: record.subarray(0, GCM_IV_BYTES),
          ciphertext: record.subarray(GCM_IV_BYTES, record.length - GCM_TAG_BYTES),
          tag: record.subarray(record.length - GCM_TAG_BYTES),
        },
        recordAad(place, key.version, index, last),
      );
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw corrupt(`record ${index}${last ? ' (the last)' : ''} does not authenticate`);
      }
      throw error;
    }
    index++;
    size += plaintext.length;
    // Never more bytes than the response announced.
    if (size > expected.size) throw corrupt('longer than its recorded size');
    hash.update(plaintext);
    return plaintext;
  };

  const readHeader = async (): Promise<DataKey> => {
    const header = queue.take(headerBytes);
    if (!header.subarray(0, magic.length).equals(magic)) throw corrupt('not in a known format');
    const version = header.readUInt32BE(magic.length);
    try {
      return await keyFor(version);
    } catch (error) {
      // A key the workspace never had, or that was destroyed: these bytes cannot be its file.
      if (error instanceof DataKeyNotFoundError) throw corrupt(`no data key v${version}`, error);
      throw error;
    }
  };

  for await (const bytes of source) {
    queue.push(bytes);
    if (key === undefined) {
      if (queue.length < headerBytes) continue;
      key = await readHeader();
    }
    // A full record followed by more bytes is not the last one.
    while (queue.length > recordBytes) yield open(queue.take(recordBytes), false);
  }
  if (key === undefined) throw corrupt('shorter than a header');
  const last = open(queue.take(queue.length), true);
  if (size !== expected.size) throw corrupt('shorter than its recorded size');
  const digest = hash.digest();
  if (digest.length !== expected.sha256.length || !timingSafeEqual(digest, expected.sha256)) {
    throw corrupt('SHA-256 differs from the recorded one');
  }
  yield last;
}
