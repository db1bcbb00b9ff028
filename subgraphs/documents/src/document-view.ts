import type { DocumentRow } from './tables.ts';

/** The upload route's answer: the stored document as the GraphQL type shows it. */
export function documentJson(document: DocumentRow) {
  return {
    id: document.id,
    fileName: document.fileName,
    contentType: document.contentType,
    size: document.sizeBytes,
    sha256: document.sha256?.toString('hex') ?? null,
    journalEntryId: document.journalEntryId,
    createdAt: document.createdAt.toISOString(),
  };
}

/**
 * `attachment` always, so a browser saves the file instead of rendering it on our origin. The name
 * comes from the client: an ASCII fallback without quotes or backslashes, and the exact name in
 * RFC 8187 encoding for browsers that read it.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
