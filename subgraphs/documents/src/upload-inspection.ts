import { createHash } from 'node:crypto';
import { detectContentType, sniffLength } from './file-type.ts';
import type { ContentType } from './file-type.ts';

export type UploadRefusalReason = 'FILE_TOO_LARGE' | 'UNSUPPORTED_FILE_TYPE' | 'EMPTY_FILE';

/** The bytes themselves are unacceptable; the upload stops at the chunk that showed it. */
export class UploadRefused extends Error {
  readonly reason: UploadRefusalReason;
  constructor(reason: UploadRefusalReason) {
    super(reason);
    this.name = 'UploadRefused';
    this.reason = reason;
  }
}

export interface InspectedUpload {
  readonly contentType: ContentType;
  readonly size: number;
  readonly sha256: Buffer;
}

export interface UploadInspection {
  /** The file's bytes, passed on only once checked; throws UploadRefused mid-stream. */
  readonly content: AsyncGenerator<Buffer>;
  /** What the bytes turned out to be; available once `content` has been read to its end. */
  result(): InspectedUpload;
}

/**
 * Checks a file while it streams, holding at most one chunk (plus the few bytes of a split
 * signature) in memory: the real type from the magic bytes before any byte is passed on, the size
 * against `maxBytes` before a chunk that would exceed it is passed on (so a store never receives
 * more than the limit), and the SHA-256 of everything.
 */
export function inspectUpload(source: AsyncIterable<Uint8Array>, maxBytes: number): UploadInspection {
  let result: InspectedUpload | null = null;
  async function* content(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let size = 0;
    let head: Buffer[] = [];
    let headLength = 0;
    let contentType: ContentType | null = null;
    for await (const bytes of source) {
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      size += chunk.length;
      if (size > maxBytes) throw new UploadRefused('FILE_TOO_LARGE');
      hash.update(chunk);
      if (contentType !== null) {
        yield chunk;
        continue;
      }
      // The signature may arrive split across chunks: collect until there is enough to decide.
      head.push(chunk);
      headLength += chunk.length;
      if (headLength < sniffLength) continue;
      const buffered = Buffer.concat(head);
      head = [];
      contentType = detectContentType(buffered);
      if (contentType === null) throw new UploadRefused('UNSUPPORTED_FILE_TYPE');
      yield buffered;
    }
    if (contentType === null) {
      // A file shorter than the longest signature: decide on what there is.
      if (size === 0) throw new UploadRefused('EMPTY_FILE');
      const buffered = Buffer.concat(head);
      contentType = detectContentType(buffered);
      if (contentType === null) throw new UploadRefused('UNSUPPORTED_FILE_TYPE');
      yield buffered;
    }
    result = { contentType, size, sha256: hash.digest() };
  }
  return {
    content: content(),
    result() {
      if (result === null) throw new Error('the upload has not been read to its end');
      return result;
    },
  };
}
