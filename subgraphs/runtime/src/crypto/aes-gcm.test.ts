import assert from 'node:assert/strict';
import { createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  canonicalAad,
  decodeSealedField,
  DecryptionError,
  encodeSealedField,
  fieldAad,
  openAesGcm,
  openField,
  sealAesGcm,
  sealField,
} from './aes-gcm.ts';
import type { FieldRef } from './aes-gcm.ts';

interface Vector {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
  readonly result: 'valid' | 'invalid';
}
interface Group {
  readonly ivSize: number;
  readonly keySize: number;
  readonly tagSize: number;
  readonly tests: readonly Vector[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./testdata/wycheproof-aes-256-gcm.json', import.meta.url), 'utf8'),
) as { testGroups: readonly Group[]; otherIvSizeGroups: readonly Group[] };

const hex = (text: string) => Buffer.from(text, 'hex');
const label = (vector: Vector) =>
  `tcId ${vector.tcId} (${vector.flags.join(', ')}${vector.comment ? `: ${vector.comment}` : ''})`;

describe('AES-256-GCM known answers (Wycheproof aes_gcm_test, 256-bit keys)', () => {
  const vectors = fixture.testGroups.flatMap((group) => {
    assert.deepEqual([group.ivSize, group.keySize, group.tagSize], [96, 256, 128]);
    return group.tests;
  });

  it('covers the whole 96-bit IV group, valid and invalid cases', () => {
    assert.equal(vectors.length, 66);
    assert.equal(vectors.filter((vector) => vector.result === 'valid').length, 39);
    assert.equal(vectors.filter((vector) => vector.result === 'invalid').length, 27);
  });

  it('seals every valid vector to its ciphertext and tag, and opens it to its message', () => {
    for (const vector of vectors.filter((candidate) => candidate.result === 'valid')) {
      const key = hex(vector.key);
      const sealed = sealAesGcm(key, hex(vector.iv), hex(vector.msg), hex(vector.aad));
      assert.equal(sealed.ciphertext.toString('hex'), vector.ct, label(vector));
      assert.equal(sealed.tag.toString('hex'), vector.tag, label(vector));
      const opened = openAesGcm(createSecretKey(key), hex(vector.iv), hex(vector.ct), hex(vector.tag), hex(vector.aad));
      assert.equal(opened.toString('hex'), vector.msg, label(vector));
    }
  });

  it('refuses every invalid vector', () => {
    for (const vector of vectors.filter((candidate) => candidate.result === 'invalid')) {
      assert.throws(
        () => openAesGcm(hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag), hex(vector.aad)),
        DecryptionError,
        label(vector),
      );
    }
  });

  it('refuses IVs of any length but 12 bytes, even where GCM itself accepts them', () => {
    const vectors = fixture.otherIvSizeGroups.flatMap((group) => group.tests);
    assert.deepEqual(
      [...new Set(fixture.otherIvSizeGroups.map((group) => group.ivSize))].sort((a, b) => a - b),
      [0, 8, 16, 32, 48, 64, 80, 120, 160, 256, 512],
    );
    for (const vector of vectors) {
      if (vector.result === 'valid') {
        // The vector is a genuine GCM encryption: Node's raw cipher opens it; only our rule refuses it.
        const raw = createDecipheriv('aes-256-gcm', hex(vector.key), hex(vector.iv), { authTagLength: 16 });
        raw.setAAD(hex(vector.aad));
        raw.setAuthTag(hex(vector.tag));
        assert.equal(Buffer.concat([raw.update(hex(vector.ct)), raw.final()]).toString('hex'), vector.msg);
      }
      assert.throws(
        () => openAesGcm(hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag), hex(vector.aad)),
        DecryptionError,
        label(vector),
      );
      assert.throws(() => sealAesGcm(hex(vector.key), hex(vector.iv), hex(vector.msg), hex(vector.aad)), RangeError);
    }
  });

  it('refuses truncated tags, including a correct tag cut short', () => {
    const vector = vectors.find((candidate) => candidate.tcId === 91);
    assert.ok(vector);
    for (const length of [0, 1, 4, 8, 12, 13, 14, 15]) {
      assert.throws(
        () =>
          openAesGcm(
            hex(vector.key),
            hex(vector.iv),
            hex(vector.ct),
            hex(vector.tag).subarray(0, length),
            hex(vector.aad),
          ),
        DecryptionError,
        `tag of ${length} bytes`,
      );
    }
    // A longer "tag" is no tag either.
    const tooLong = Buffer.concat([hex(vector.tag), Buffer.alloc(1)]);
    assert.throws(
      () => openAesGcm(hex(vector.key), hex(vector.iv), hex(vector.ct), tooLong, hex(vector.aad)),
      DecryptionError,
    );
  });

  it('refuses keys that are not 256 bits', () => {
    for (const length of [0, 16, 24, 31, 33]) {
      assert.throws(
        () => sealAesGcm(randomBytes(length), randomBytes(12), Buffer.alloc(1), Buffer.alloc(0)),
        RangeError,
      );
      assert.throws(
        () => openAesGcm(randomBytes(length), randomBytes(12), Buffer.alloc(1), randomBytes(16), Buffer.alloc(0)),
        RangeError,
      );
    }
  });
});

describe('canonical AAD', () => {
  it('never maps two different lists to the same bytes', () => {
    const encodings = [
      canonicalAad(['ab', 'c']),
      canonicalAad(['a', 'bc']),
      canonicalAad(['a|b', 'c']),
      canonicalAad(['a', 'b|c']),
      canonicalAad(['abc']),
      canonicalAad(['abc', '']),
      canonicalAad(['', 'abc']),
    ].map((bytes) => bytes.toString('hex'));
    assert.equal(new Set(encodings).size, encodings.length);
  });

  it('binds a field to its workspace, table, column, row and key version', () => {
    const ref: FieldRef = {
      tenantId: '11111111-1111-4111-8111-111111111111',
      table: 'contacts',
      column: 'iban',
      rowId: 'r1',
    };
    const base = fieldAad(ref, 1).toString('hex');
    for (const changed of [
      fieldAad({ ...ref, tenantId: '22222222-2222-4222-8222-222222222222' }, 1),
      fieldAad({ ...ref, table: 'employees' }, 1),
      fieldAad({ ...ref, column: 'name' }, 1),
      fieldAad({ ...ref, rowId: 'r2' }, 1),
      fieldAad(ref, 2),
    ]) {
      assert.notEqual(changed.toString('hex'), base);
    }
  });
});

describe('sealed field format', () => {
  const key = randomBytes(32);
  const ref: FieldRef = {
    tenantId: '11111111-1111-4111-8111-111111111111',
    table: 'contacts',
    column: 'iban',
    rowId: 'r1',
  };

  it('is v1.<dekVersion>.<base64url(iv ‖ ciphertext ‖ tag)> with a fresh IV each time', () => {
    const plaintext = Buffer.from('CH9300762011623852957');
    const first = sealField(key, 7, ref, plaintext);
    const second = sealField(key, 7, ref, plaintext);
    assert.match(first, /^v1\.7\.[A-Za-z0-9_-]+$/);
    assert.notEqual(first, second);
    const decoded = decodeSealedField(first);
    assert.equal(decoded.dekVersion, 7);
    assert.equal(decoded.iv.length, 12);
    assert.equal(decoded.tag.length, 16);
    assert.equal(decoded.ciphertext.length, plaintext.length);
    assert.notEqual(decoded.iv.toString('hex'), decodeSealedField(second).iv.toString('hex'));
    assert.equal(openField(key, decoded, ref).toString(), plaintext.toString());
    assert.equal(encodeSealedField(decoded), first);
  });

  it('refuses anything but the canonical form', () => {
    const sealed = sealField(key, 3, ref, Buffer.from('x'));
    const body = sealed.slice('v1.3.'.length);
    for (const forged of [
      `v2.3.${body}`,
      `v1.03.${body}`,
      `v1.0.${body}`,
      `v1.-3.${body}`,
      `v1.3.${body}=`,
      `v1.3.${body}.`,
      `v1.3.${body.slice(0, -1)}+`,
      `v1.99999999999.${body}`,
      `v1.3.${Buffer.alloc(27).toString('base64url')}`,
      '',
    ]) {
      assert.throws(() => decodeSealedField(forged), DecryptionError, forged);
    }
  });

  it('fails when the DEK version is relabelled, even under the same key', () => {
    const sealed = sealField(key, 3, ref, Buffer.from('x'));
    const relabelled = decodeSealedField(sealed.replace(/^v1\.3\./, 'v1.4.'));
    assert.throws(() => openField(key, relabelled, ref), DecryptionError);
  });
});
