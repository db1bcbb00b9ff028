import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskedAhv, maskedEmail, maskedIban, redacted } from './masking.ts';

describe('audit masking', () => {
  it('keeps enough to recognise a value and never the value', () => {
    assert.equal(maskedIban('CH93 0076 2011 6238 5295 7'), '****2957');
    assert.equal(maskedEmail('jana.muster@example.ch'), 'j***@example.ch');
    assert.equal(maskedAhv('756.1234.5678.97'), '756.****.****.97');
    assert.equal(redacted('Bahnhofstrasse'), '[redacted]');
    for (const mask of [maskedIban, maskedEmail, maskedAhv, redacted]) {
      assert.equal(mask(null), null);
      assert.equal(mask(''), null);
    }
  });
});
