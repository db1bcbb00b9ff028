import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAmount, parseAmount, parseBookingDate, parseCurrency } from './money.ts';

describe('money and dates', () => {
  it('parses decimal amounts into minor units without floats', () => {
    assert.equal(parseAmount('1250.5', 'amount'), 125050n);
    assert.equal(parseAmount('0.01', 'amount'), 1n);
    assert.equal(parseAmount('9999999999999.99', 'amount'), 999999999999999n);
    assert.equal(formatAmount(125050n), '1250.50');
    assert.equal(formatAmount(1n), '0.01');
  });

  it('refuses amounts a bookkeeper would not write, naming the field', () => {
    for (const bad of ['0', '0.00', '-5', '1.234', '1e3', '', 'abc', '12345678901234']) {
      assert.throws(
        () => parseAmount(bad, 'amount'),
        (error: Error & { extensions?: Record<string, unknown> }) =>
          error.extensions?.code === 'BAD_USER_INPUT' && error.extensions.field === 'amount',
        bad,
      );
    }
  });

  it('accepts only real calendar dates', () => {
    assert.equal(parseBookingDate('2024-02-29', 'bookingDate'), '2024-02-29');
    for (const bad of ['2023-02-29', '2024-13-01', '24-01-01', '2024-1-1', '']) {
      assert.throws(() => parseBookingDate(bad, 'bookingDate'), /YYYY-MM-DD/, bad);
    }
  });

  it('accepts ISO currency codes only', () => {
    assert.equal(parseCurrency('CHF', 'currency'), 'CHF');
    assert.throws(() => parseCurrency('chf', 'currency'), /ISO 4217/);
  });
});
