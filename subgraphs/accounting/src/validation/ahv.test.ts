import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAhvNumber, maskAhvNumber, parseAhvNumber } from './ahv.ts';

const refusedAs = (field: string, message: RegExp) => (error: Error & { extensions?: Record<string, unknown> }) =>
  error.extensions?.code === 'BAD_USER_INPUT' && error.extensions.field === field && message.test(error.message);

describe('AHV number', () => {
  // 756.9217.0769.85: 7+15+6+27+2+3+7+0+7+18+9+24 = 125, so the EAN-13 check digit is (10 - 5) % 10 = 5.
  const valid: [written: string, digits: string][] = [
    ['756.9217.0769.85', '7569217076985'],
    ['7569217076985', '7569217076985'],
    [' 756.9217.0769.85 ', '7569217076985'],
    ['756.1234.5678.97', '7561234567897'],
    ['756.0000.0000.02', '7560000000002'],
  ];
  for (const [written, digits] of valid) {
    it(`accepts ${JSON.stringify(written)}`, () => {
      assert.equal(parseAhvNumber(written, 'input.ahvNumber'), digits);
    });
  }

  const invalid: [written: string, why: RegExp][] = [
    ['756.9217.0769.84', /check digit/],
    ['7569217076986', /check digit/],
    ['756.9217.0796.85', /check digit/],
    ['757.9217.0769.85', /13 digits starting with 756/],
    ['123.4567.8901.23', /13 digits starting with 756/],
    ['756.9217.0769.8', /13 digits starting with 756/],
    ['756.9217.0769.855', /13 digits starting with 756/],
    ['756921707698', /13 digits starting with 756/],
    ['75692170769855', /13 digits starting with 756/],
    ['756.92170.769.85', /13 digits starting with 756/],
    ['756 9217 0769 85', /13 digits starting with 756/],
    ['756.9217.O769.85', /13 digits starting with 756/],
    ['', /13 digits starting with 756/],
  ];
  for (const [written, why] of invalid) {
    it(`refuses ${JSON.stringify(written)} (${why.source})`, () => {
      assert.throws(() => parseAhvNumber(written, 'input.ahvNumber'), refusedAs('input.ahvNumber', why));
    });
  }

  it('never repeats the number in its messages', () => {
    assert.throws(
      () => parseAhvNumber('756.9217.0769.84', 'input.ahvNumber'),
      (error: Error) => !/9217|0769/.test(error.message),
    );
  });

  it('prints the stored digits as on the insurance card', () => {
    assert.equal(formatAhvNumber('7569217076985'), '756.9217.0769.85');
  });
});

describe('maskAhvNumber', () => {
  it('keeps the country prefix and the last two digits only', () => {
    assert.equal(maskAhvNumber('7569217076985'), '756.****.****.85');
  });
});
