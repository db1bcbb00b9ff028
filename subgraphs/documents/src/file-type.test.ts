import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectContentType, sniffLength } from './file-type.ts';

const bytes = (...values: (number | string)[]) =>
  Buffer.concat(values.map((value) => (typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.of(value))));

describe('detectContentType', () => {
  const table: [string, Buffer, string | null][] = [
    ['PDF', bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), 'application/pdf'],
    ['PNG', bytes(0x89, 'PNG\r\n\x1a\n', 0, 0, 0, 13, 'IHDR'), 'image/png'],
    ['JPEG (JFIF)', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 16, 'JFIF'), 'image/jpeg'],
    ['JPEG (Exif)', bytes(0xff, 0xd8, 0xff, 0xe1, 0, 16, 'Exif'), 'image/jpeg'],
    ['TIFF little-endian', bytes('II*\0', 8, 0, 0, 0), 'image/tiff'],
    ['TIFF big-endian', bytes('MM\0*', 0, 0, 0, 8), 'image/tiff'],
    ['Windows executable', bytes('MZ\x90\0\x03\0\0\0\x04\0'), null],
    ['ELF executable', bytes('\x7fELF\x02\x01\x01\0'), null],
    ['shell script', bytes('#!/bin/sh\nrm -rf /\n'), null],
    ['HTML', bytes('<!doctype html><script>'), null],
    ['ZIP (docx, jar)', bytes('PK\x03\x04\x14\0\x06\0'), null],
    ['PDF header after junk', bytes(' %PDF-1.7\n'), null],
    ['PDF without the dash', bytes('%PDF1.7\n'), null],
    ['PNG signature cut short', bytes(0x89, 'PNG\r\n\x1a'), null],
    ['BigTIFF', bytes('II+\0', 8, 0, 0, 0), null],
    ['lower-case pdf', bytes('%pdf-1.4\n'), null],
    ['empty', bytes(), null],
  ];
  for (const [name, head, expected] of table) {
    it(`${name} → ${expected ?? 'refused'}`, () => {
      assert.equal(detectContentType(head), expected);
    });
  }

  it('decides with the longest signature in hand', () => {
    assert.equal(sniffLength, 8);
  });
});
