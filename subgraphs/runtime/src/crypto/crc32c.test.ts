import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32c } from './crc32c.ts';

describe('crc32c', () => {
  it('gives the Castagnoli check value for "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  });

  it('is not the ISO-HDLC CRC-32 that zlib computes', () => {
    const data = Buffer.from('123456789', 'ascii');
    assert.equal(crc32(data), 0xcbf43926);
    assert.notEqual(crc32c(data), crc32(data));
  });

  it('gives 0 for no data and the published values for 32 zero and 32 0xff bytes', () => {
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    // RFC 3720 (iSCSI), appendix B.4.
    assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });
});
