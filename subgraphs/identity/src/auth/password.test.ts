import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_PASSWORD_HASH_PARAMS,
  hashPassword,
  needsRehash,
  validatePasswordPolicy,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';
import type { PasswordHashParams } from './password.ts';

// Cheap parameters keep the suite fast; the production defaults are exercised once below.
const cheap: PasswordHashParams = { memory: 64, passes: 1, parallelism: 1, tagLength: 32 };
const password = 'correct horse battery staple';

// Changes the first character, which keeps the base64 canonical (unlike the last one, whose low
// bits must be zero), so the change is caught by the hash comparison rather than by parsing.
function replaceFirstChar(text: string): string {
  return (text.startsWith('A') ? 'B' : 'A') + text.slice(1);
}

describe('password hashing', () => {
  it('round-trips with the default parameters and records them in the PHC string', async () => {
    const phc = await hashPassword(password);
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword(password, phc), true);
  });

  it('uses a fresh salt for every hash', async () => {
    const first = await hashPassword(password, cheap);
    const second = await hashPassword(password, cheap);
    assert.notEqual(first, second);
  });

  it('rejects a wrong password', async () => {
    const phc = await hashPassword(password, cheap);
    assert.equal(await verifyPassword('correct horse battery stapl', phc), false);
    assert.equal(await verifyPassword('', phc), false);
  });

  it('rejects a tampered hash or salt', async () => {
    const phc = await hashPassword(password, cheap);
    const parts = phc.split('$');
    const tamperedHash = [...parts.slice(0, 5), replaceFirstChar(parts[5] ?? '')].join('$');
    const tamperedSalt = [...parts.slice(0, 4), replaceFirstChar(parts[4] ?? ''), parts[5]].join('$');
    const tamperedPasses = phc.replace(',t=1,', ',t=2,');
    for (const tampered of [tamperedHash, tamperedSalt]) {
      assert.notEqual(tampered, phc);
      // Still well-formed, so it is the hash comparison that says no.
      assert.equal(needsRehash(tampered, cheap), false);
      assert.equal(await verifyPassword(password, tampered), false);
    }
    assert.equal(await verifyPassword(password, tamperedPasses), false);
  });

  it('returns false rather than throwing for malformed PHC strings', async () => {
    const phc = await hashPassword(password, cheap);
    const malformed = [
      '',
      'not a hash',
      phc.replace('$argon2id$', '$argon2i$'),
      phc.replace('$v=19$', '$v=16$'),
      phc.replace('$v=19$', '$'),
      phc.replace('m=64,t=1,p=1', 't=1,m=64,p=1'),
      phc.replace('m=64,', 'm=064,'),
      phc.replace('m=64,', 'm=4,'), // below the argon2 minimum
      phc.replace('m=64,', 'm=99999999,'), // above the allocation cap
      phc.replace('t=1,', 't=4294967295,'),
      phc.replace('p=1$', 'p=0$'),
      phc + '=',
      phc + '$extra',
      phc.slice(0, phc.lastIndexOf('$')),
      phc.slice(0, phc.lastIndexOf('$') + 1) + 'AAAA', // 3-byte hash, too short
      phc.replace(/\$[^$]+\$([^$]+)$/, '$AAAA$$$1'), // 3-byte salt, too short
      phc.replace(/.$/, '!'),
      `  ${phc}`,
    ];
    for (const value of malformed) {
      assert.equal(await verifyPassword(password, value), false, value);
    }
  });

  it('verifies using the parameters stored in the string, not the current defaults', async () => {
    const older: PasswordHashParams = { memory: 128, passes: 3, parallelism: 2, tagLength: 16 };
    const phc = await hashPassword(password, older);
    assert.match(phc, /^\$argon2id\$v=19\$m=128,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{22}$/);
    assert.equal(await verifyPassword(password, phc), true);
    assert.equal(await verifyPassword('something else entirely', phc), false);
  });

  it('verifies a hash produced by another argon2id implementation', async () => {
    // Produced by the reference C implementation: echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
    const reference = '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo';
    assert.equal(await verifyPassword('password', reference), true);
    assert.equal(await verifyPassword('Password', reference), false);
  });

  it('refuses to hash with out-of-range parameters', async () => {
    await assert.rejects(hashPassword(password, { ...cheap, memory: 4 }), /invalid argon2id parameters/);
    await assert.rejects(hashPassword(password, { ...cheap, passes: 0 }), /invalid argon2id parameters/);
    await assert.rejects(hashPassword(password, { ...cheap, tagLength: 8 }), /invalid argon2id parameters/);
    await assert.rejects(hashPassword(password, { ...cheap, parallelism: 1.5 }), /invalid argon2id parameters/);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made with the given parameters', async () => {
    const phc = await hashPassword(password, cheap);
    assert.equal(needsRehash(phc, cheap), false);
  });

  it('is true when any parameter differs', async () => {
    const phc = await hashPassword(password, cheap);
    assert.equal(needsRehash(phc, { ...cheap, memory: 128 }), true);
    assert.equal(needsRehash(phc, { ...cheap, passes: 2 }), true);
    assert.equal(needsRehash(phc, { ...cheap, parallelism: 2 }), true);
    assert.equal(needsRehash(phc, { ...cheap, tagLength: 16 }), true);
    assert.equal(needsRehash(phc), true);
  });

  it('is true for a malformed hash', () => {
    assert.equal(needsRehash('garbage', cheap), true);
  });

  it('compares against the defaults when no parameters are given', async () => {
    const phc = await hashPassword(password, DEFAULT_PASSWORD_HASH_PARAMS);
    assert.equal(needsRehash(phc), false);
  });
});

describe('verifyAgainstDummy', () => {
  it('resolves false, even for the empty password', async () => {
    assert.equal(await verifyAgainstDummy(password, cheap), false);
    assert.equal(await verifyAgainstDummy(''), false);
  });

  it('actually runs argon2 with the given parameters', async () => {
    // A loose sanity check, not a timing comparison: a real argon2 run with these parameters
    // (64 MiB, 3 passes) takes clearly measurable time.
    const heavy: PasswordHashParams = { memory: 65_536, passes: 3, parallelism: 1, tagLength: 32 };
    const started = performance.now();
    assert.equal(await verifyAgainstDummy(password, heavy), false);
    assert.ok(performance.now() - started > 0);
  });

  it('rejects out-of-range parameters like hashPassword does', async () => {
    await assert.rejects(verifyAgainstDummy(password, { ...cheap, memory: 4 }), /invalid argon2id parameters/);
  });
});

describe('validatePasswordPolicy', () => {
  it('accepts passwords from 12 to 256 characters', () => {
    assert.equal(validatePasswordPolicy('a'.repeat(12)), null);
    assert.equal(validatePasswordPolicy('a'.repeat(256)), null);
  });

  it('rejects passwords that are too short or too long', () => {
    assert.match(validatePasswordPolicy('') ?? '', /at least 12/);
    assert.match(validatePasswordPolicy('a'.repeat(11)) ?? '', /at least 12/);
    assert.match(validatePasswordPolicy('a'.repeat(257)) ?? '', /at most 256/);
  });

  it('counts characters, not UTF-16 code units', () => {
    // Eleven emoji are 22 UTF-16 units but still too short.
    assert.match(validatePasswordPolicy('😀'.repeat(11)) ?? '', /at least 12/);
    assert.equal(validatePasswordPolicy('😀'.repeat(256)), null);
  });
});
