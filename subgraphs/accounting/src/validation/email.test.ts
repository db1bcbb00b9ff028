import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEmail } from './email.ts';

describe('email', () => {
  const valid: [written: string, stored: string][] = [
    ['buchhaltung@example.ch', 'buchhaltung@example.ch'],
    [' Anna.Muster+rechnungen@mail.example.co.uk ', 'Anna.Muster+rechnungen@mail.example.co.uk'],
    ['info@müller-ag.ch', 'info@müller-ag.ch'],
  ];
  for (const [written, stored] of valid) {
    it(`accepts ${JSON.stringify(written)}`, () => {
      assert.equal(parseEmail(written, 'input.email'), stored);
    });
  }

  for (const written of [
    '',
    'buchhaltung',
    'buchhaltung@',
    '@example.ch',
    'buchhaltung@example',
    'buchhaltung@example.',
    'buchhaltung@.ch',
    'a@b@example.ch',
    'anna muster@example.ch',
    'anna@exa mple.ch',
    'anna\u0000@example.ch',
    `${'a'.repeat(250)}@example.ch`,
  ]) {
    it(`refuses ${JSON.stringify(written)}`, () => {
      assert.throws(
        () => parseEmail(written, 'input.email'),
        (error: Error & { extensions?: Record<string, unknown> }) =>
          error.extensions?.code === 'BAD_USER_INPUT' && error.extensions.field === 'input.email',
      );
    });
  }
});
