/** The file types a Beleg may have: PDFs and the usual scan formats. */
export const contentTypes = ['application/pdf', 'image/png', 'image/jpeg', 'image/tiff'] as const;
export type ContentType = (typeof contentTypes)[number];

interface Signature {
  readonly type: ContentType;
  readonly bytes: readonly number[];
}

// Each format's magic number at offset 0. PDF readers tolerate junk before `%PDF-`, but a file we
// keep as evidence must be what it says from its first byte, so we do not.
const signatures: readonly Signature[] = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/tiff', bytes: [0x49, 0x49, 0x2a, 0x00] }, // II*\0, little-endian
  { type: 'image/tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] }, // MM\0*, big-endian
];

/** How many leading bytes `detectContentType` needs to decide. */
export const sniffLength = Math.max(...signatures.map((signature) => signature.bytes.length));

/**
 * The type a file really has, from its leading bytes (at least `sniffLength` of them unless the
 * file is shorter); null for anything else. What the client claims (a name, a Content-Type) is
 * never consulted: a renamed executable is still an executable.
 */
export function detectContentType(head: Uint8Array): ContentType | null {
  const match = signatures.find(({ bytes }) => bytes.every((byte, index) => head[index] === byte));
  return match?.type ?? null;
}
