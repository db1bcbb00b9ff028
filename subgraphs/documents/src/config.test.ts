import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@numezis/runtime';
import { readDocumentsSettings } from './config.ts';

const defaults = { blobDir: '/srv/numezis/document-files' };

function problemsOf(env: Record<string, string>, environment: 'development' | 'production' = 'development'): string[] {
  try {
    readDocumentsSettings(env, environment, defaults);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('documents settings', () => {
  it('default to 50 MB, ten-minute tickets and five-minute links', () => {
    assert.deepEqual(readDocumentsSettings({}, 'development', defaults), {
      maxUploadBytes: 52_428_800,
      blobDir: defaults.blobDir,
      uploadTicketTtlMs: 600_000,
      downloadLinkTtlMs: 300_000,
    });
  });

  it('name every bad setting', () => {
    const problems = problemsOf({
      DOCUMENTS_MAX_UPLOAD_BYTES: '50MB',
      DOCUMENTS_BLOB_DIR: 'relative/dir',
      DOCUMENTS_UPLOAD_TICKET_MINUTES: '0',
      DOCUMENTS_DOWNLOAD_LINK_SECONDS: '86400',
    });
    assert.deepEqual(
      problems.map((problem) => problem.split(' ')[0]),
      [
        'DOCUMENTS_BLOB_DIR',
        'DOCUMENTS_MAX_UPLOAD_BYTES',
        'DOCUMENTS_UPLOAD_TICKET_MINUTES',
        'DOCUMENTS_DOWNLOAD_LINK_SECONDS',
      ],
    );
  });

  it('need an explicit blob folder in production', () => {
    assert.deepEqual(problemsOf({}, 'production'), ['DOCUMENTS_BLOB_DIR is required when NODE_ENV=production']);
    assert.deepEqual(problemsOf({ DOCUMENTS_BLOB_DIR: '/var/lib/numezis/documents' }, 'production'), []);
  });
});
