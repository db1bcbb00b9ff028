import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loggerOptions } from './logger.ts';
import { safeError } from './safe-error-log.ts';

describe('errors in logs', () => {
  it('keep the SQL and the SQLSTATE but drop query parameters and row values', () => {
    const cause = Object.assign(new Error('duplicate key value violates unique constraint "contacts_iban_unique"'), {
      code: '23505',
      constraint: 'contacts_iban_unique',
      table: 'contacts',
      detail: 'Key (tenant_id, iban)=(6f9c3d1a-2b4e-4c5d-8e7f-0a1b2c3d4e5f, CH9300762011623852957) already exists.',
    });
    const error = new Error(
      'Failed query: insert into "accounting"."employees" ("ahv_number_plaintext") values ($1)\nparams: 7569217076985',
      { cause },
    );
    const safe = safeError(error);
    const logged = JSON.stringify(safe);
    assert.doesNotMatch(logged, /7569217076985|CH9300762011623852957/);
    assert.match(safe.message, /insert into "accounting"\."employees"/);
    assert.match(logged, /"code":"23505"/);
    assert.match(logged, /contacts_iban_unique/);
  });

  it('are serialised that way by every service logger', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino(loggerOptions('test', 'info'), sink);
    log.error({ err: new Error('Failed query: select 1\nparams: secret-iban') }, 'unexpected error');
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0] ?? '', /secret-iban/);
    assert.match(lines[0] ?? '', /Failed query: select 1/);
  });
});
