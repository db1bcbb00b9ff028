import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConfigReader } from '@numezis/runtime';
import type { ConfigError, Env } from '@numezis/runtime';
import { readWebAuthnSettings } from './settings.ts';

const read = (env: Env) => {
  const reader = createConfigReader(env);
  const settings = readWebAuthnSettings(reader);
  return reader.finish(settings);
};

const problemsOf = (env: Env): readonly string[] => {
  try {
    read(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

describe('WebAuthn settings', () => {
  it('defaults to the local gateway', () => {
    assert.deepEqual(read({}), { rpId: 'localhost', rpName: 'Numezis', origins: ['http://localhost:4000'] });
  });

  it('takes a list of origins within the RP id', () => {
    const settings = read({
      IDENTITY_WEBAUTHN_RP_ID: 'numezis.ch',
      IDENTITY_WEBAUTHN_RP_NAME: 'Numezis AG',
      IDENTITY_WEBAUTHN_ORIGINS: 'https://numezis.ch, https://app.numezis.ch',
    });
    assert.deepEqual(settings.origins, ['https://numezis.ch', 'https://app.numezis.ch']);
    assert.equal(settings.rpName, 'Numezis AG');
  });

  it('refuses origins a browser would never report, or outside the RP id', () => {
    const problems = problemsOf({
      IDENTITY_WEBAUTHN_RP_ID: 'numezis.ch',
      IDENTITY_WEBAUTHN_ORIGINS: 'https://app.numezis.ch/,https://evil-numezis.ch,ftp://numezis.ch,numezis.ch',
    });
    assert.equal(problems.length, 4);
    assert.ok(problems.every((problem) => problem.startsWith('IDENTITY_WEBAUTHN_ORIGINS')));
    assert.match(problems[1] ?? '', /not within IDENTITY_WEBAUTHN_RP_ID/);
  });

  it('refuses an RP id that is not a domain name', () => {
    assert.ok(problemsOf({ IDENTITY_WEBAUTHN_RP_ID: 'https://numezis.ch' })[0]?.startsWith('IDENTITY_WEBAUTHN_RP_ID'));
  });
});
