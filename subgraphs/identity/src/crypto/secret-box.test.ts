import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSecretBox, sealedKeyId } from './secret-box.ts';

const aad = 'totp:user-1';
const secret = Buffer.from('JBSWY3DPEHPK3PXP', 'utf8');
const openFailed = { message: 'sealed value cannot be opened' };

function parts(sealed: string): string[] {
  return sealed.split('.');
}

function withPart(sealed: string, index: number, bytes: Buffer): string {
  const copy = parts(sealed);
  copy[index] = bytes.toString('base64url');
  return copy.join('.');
}

function partBytes(sealed: string, index: number): Buffer {
  return Buffer.from(parts(sealed)[index] ?? '', 'base64url');
}

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32), 'k1');

  it('round-trips', () => {
    const sealed = box.seal(secret, aad);
    assert.deepEqual(box.open(sealed, aad), secret);
  });

  it('round-trips an empty plaintext', () => {
    assert.deepEqual(box.open(box.seal(Buffer.alloc(0), aad), aad), Buffer.alloc(0));
  });

  it('uses the documented format with a fresh IV each time', () => {
    const first = box.seal(secret, aad);
    const second = box.seal(secret, aad);
    assert.match(first, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    assert.equal(partBytes(first, 2).length, 12);
    assert.equal(partBytes(first, 4).length, 16);
    assert.notEqual(first, second);
    assert.notDeepEqual(partBytes(first, 2), partBytes(second, 2));
  });

  it('does not reveal the plaintext in the sealed value', () => {
    const sealed = box.seal(secret, aad);
    assert.ok(!sealed.includes(secret.toString('base64url')));
    assert.ok(!sealed.includes(secret.toString('utf8')));
  });

  it("fails with another owner's AAD, so values cannot be moved between users", () => {
    const sealed = box.seal(secret, aad);
    assert.throws(() => box.open(sealed, 'totp:user-2'), openFailed);
    assert.throws(() => box.open(sealed, 'passkey:user-1'), openFailed);
    assert.throws(() => box.open(sealed, ''), openFailed);
  });

  it('refuses to seal without an AAD', () => {
    assert.throws(() => box.seal(secret, ''), /non-empty AAD/);
  });

  it('fails when any byte of the IV, ciphertext or tag is flipped', () => {
    const sealed = box.seal(secret, aad);
    for (const index of [2, 3, 4]) {
      const original = partBytes(sealed, index);
      assert.ok(original.length > 0);
      for (let byte = 0; byte < original.length; byte++) {
        const flipped = Buffer.from(original);
        flipped[byte] = (flipped[byte] ?? 0) ^ 0x01;
        assert.throws(() => box.open(withPart(sealed, index, flipped), aad), openFailed, `part ${index} byte ${byte}`);
      }
    }
  });

  it('fails for a truncated or extended tag', () => {
    const sealed = box.seal(secret, aad);
    const tag = partBytes(sealed, 4);
    for (const length of [0, 4, 12, 15]) {
      assert.throws(() => box.open(withPart(sealed, 4, tag.subarray(0, length)), aad), openFailed, `tag ${length}`);
    }
    assert.throws(() => box.open(withPart(sealed, 4, Buffer.concat([tag, Buffer.alloc(1)])), aad), openFailed);
  });

  it('fails for an IV that is not 12 bytes', () => {
    const sealed = box.seal(secret, aad);
    const iv = partBytes(sealed, 2);
    assert.throws(() => box.open(withPart(sealed, 2, iv.subarray(0, 11)), aad), openFailed);
    assert.throws(() => box.open(withPart(sealed, 2, Buffer.concat([iv, Buffer.alloc(4)])), aad), openFailed);
  });

  it('fails for a truncated ciphertext', () => {
    const sealed = box.seal(secret, aad);
    const ciphertext = partBytes(sealed, 3);
    assert.throws(() => box.open(withPart(sealed, 3, ciphertext.subarray(0, -1)), aad), openFailed);
  });

  it('fails for malformed values with the same generic error', () => {
    const sealed = box.seal(secret, aad);
    const malformed = [
      '',
      'garbage',
      sealed.replace(/^v1\./, 'v2.'),
      sealed + '.',
      parts(sealed).slice(0, 4).join('.'),
      sealed.replace(/.$/, '='),
      sealed.replace(/.$/, '+'),
      ` ${sealed}`,
    ];
    for (const value of malformed) {
      assert.throws(() => box.open(value, aad), openFailed, value);
    }
  });

  it('fails for a value sealed under another key with the same id', () => {
    const other = createSecretBox(randomBytes(32), 'k1');
    assert.throws(() => box.open(other.seal(secret, aad), aad), openFailed);
  });

  it('fails for an unknown key id, including a relabelled value', () => {
    const sealed = box.seal(secret, aad);
    const other = createSecretBox(randomBytes(32), 'k9');
    assert.throws(() => box.open(other.seal(secret, aad), aad), openFailed);
    assert.throws(() => box.open(sealed.replace(/^v1\.k1\./, 'v1.k9.'), aad), openFailed);
  });

  it('never puts the key or plaintext into error messages', () => {
    const key = randomBytes(32);
    const keyed = createSecretBox(key, 'k1');
    const sealed = keyed.seal(secret, aad);
    try {
      keyed.open(sealed, 'totp:user-2');
      assert.fail('expected open to throw');
    } catch (error) {
      assert.ok(error instanceof Error);
      assert.equal(error.message, 'sealed value cannot be opened');
      assert.equal(error.cause, undefined);
      for (const leak of [key.toString('base64url'), key.toString('hex'), secret.toString('utf8')]) {
        assert.ok(!String(error.stack).includes(leak));
      }
    }
  });

  it('rejects keys of the wrong length and bad or duplicate key ids', () => {
    assert.throws(() => createSecretBox(randomBytes(16), 'k1'), /exactly 32 bytes/);
    assert.throws(() => createSecretBox(randomBytes(32), ''), /key id/);
    assert.throws(() => createSecretBox(randomBytes(32), 'has.dot'), /key id/);
    assert.throws(
      () =>
        createSecretBox({
          current: { id: 'k1', key: randomBytes(32) },
          previous: [{ id: 'k1', key: randomBytes(32) }],
        }),
      /more than once/,
    );
  });

  it('is unaffected by later changes to the key buffer passed in', () => {
    const key = randomBytes(32);
    const keyed = createSecretBox(key, 'k1');
    const sealed = keyed.seal(secret, aad);
    key.fill(0);
    assert.deepEqual(keyed.open(sealed, aad), secret);
  });
});

describe('secret box key rotation', () => {
  const oldKey = { id: '2024-01', key: randomBytes(32) };
  const newKey = { id: '2025-06', key: randomBytes(32) };
  const before = createSecretBox(oldKey.key, oldKey.id);
  const after = createSecretBox({ current: newKey, previous: [oldKey] });

  it('still opens values sealed under a previous key', () => {
    const sealed = before.seal(secret, aad);
    assert.deepEqual(after.open(sealed, aad), secret);
  });

  it('seals new values under the current key only', () => {
    const sealed = after.seal(secret, aad);
    assert.equal(parts(sealed)[1], newKey.id);
    assert.throws(() => before.open(sealed, aad), openFailed);
    assert.deepEqual(createSecretBox(newKey.key, newKey.id).open(sealed, aad), secret);
  });

  it('stops opening values once their key is retired', () => {
    const sealed = before.seal(secret, aad);
    const retired = createSecretBox({ current: newKey });
    assert.throws(() => retired.open(sealed, aad), openFailed);
  });

  it('still checks the AAD for values under a previous key', () => {
    const sealed = before.seal(secret, aad);
    assert.throws(() => after.open(sealed, 'totp:user-2'), openFailed);
  });
});

describe('sealedKeyId', () => {
  it('names the key a value was sealed under', () => {
    assert.equal(sealedKeyId(createSecretBox(randomBytes(32), 's7').seal(secret, aad)), 's7');
  });

  it('is undefined for anything that is not a sealed value', () => {
    for (const value of ['', 'v1', 'v1.s1', 'v2.s1.a.b.c', 'v1.bad id.a.b.c', 'v1.s1.a.b.c.d']) {
      assert.equal(sealedKeyId(value), undefined, value);
    }
  });
});
