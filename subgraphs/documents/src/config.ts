import { isAbsolute } from 'node:path';
import { createConfigReader } from '@numezis/runtime';
import type { Env, RuntimeEnvironment } from '@numezis/runtime';

export interface DocumentsSettings {
  /** Uploads larger than this are cut off at this many bytes and refused. */
  readonly maxUploadBytes: number;
  /** Folder of the filesystem blob store. */
  readonly blobDir: string;
  /** How long an upload ticket from createDocumentUpload may wait for its upload. */
  readonly uploadTicketTtlMs: number;
  /** How long a download link from createDocumentDownload may wait to be followed. */
  readonly downloadLinkTtlMs: number;
}

/**
 * Documents' own settings, beside the ones every subgraph shares. Production names its blob folder
 * explicitly: a default inside the code's checkout would vanish with the next deployment.
 */
export function readDocumentsSettings(
  env: Env,
  environment: RuntimeEnvironment,
  defaults: { blobDir: string },
): DocumentsSettings {
  const reader = createConfigReader(env);
  const configuredBlobDir = reader.string('DOCUMENTS_BLOB_DIR');
  if (configuredBlobDir === undefined && environment === 'production') {
    reader.problem('DOCUMENTS_BLOB_DIR is required when NODE_ENV=production');
  }
  if (configuredBlobDir !== undefined && !isAbsolute(configuredBlobDir)) {
    reader.problem(`DOCUMENTS_BLOB_DIR must be an absolute path, got "${configuredBlobDir}"`);
  }
  return reader.finish({
    // The GraphQL size field is an Int: 1 GiB keeps every size within it.
    maxUploadBytes: reader.int('DOCUMENTS_MAX_UPLOAD_BYTES', 50 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }),
    blobDir: configuredBlobDir ?? defaults.blobDir,
    uploadTicketTtlMs: reader.int('DOCUMENTS_UPLOAD_TICKET_MINUTES', 10, { min: 1, max: 24 * 60 }) * 60_000,
    downloadLinkTtlMs: reader.int('DOCUMENTS_DOWNLOAD_LINK_SECONDS', 300, { min: 10, max: 3600 }) * 1000,
  });
}
