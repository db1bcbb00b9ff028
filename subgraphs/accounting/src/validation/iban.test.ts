import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIban, ibanLengths, isQrIban, parseIban } from './iban.ts';

const refusedAs = (field: string, message: RegExp) => (error: Error & { extensions?: Record<string, unknown> }) =>
  error.extensions?.code === 'BAD_USER_INPUT' && error.extensions.field === field && message.test(error.message);

describe('IBAN', () => {
  const valid: [written: string, electronic: string, formatted: string, qr: boolean][] = [
    ['CH93 0076 2011 6238 5295 7', 'CH9300762011623852957', 'CH93 0076 2011 6238 5295 7', false],
    ['ch9300762011623852957', 'CH9300762011623852957', 'CH93 0076 2011 6238 5295 7', false],
    ['  CH93 0076\u00a02011 6238 5295 7 ', 'CH9300762011623852957', 'CH93 0076 2011 6238 5295 7', false],
    ['LI21 0881 0000 2324 013A A', 'LI21088100002324013AA', 'LI21 0881 0000 2324 013A A', false],
    ['li21 0881 0000 2324 013a a', 'LI21088100002324013AA', 'LI21 0881 0000 2324 013A A', false],
    ['CH44 3199 9123 0008 8901 2', 'CH4431999123000889012', 'CH44 3199 9123 0008 8901 2', true],
    ['CH31 3000 0000 0000 0000 1', 'CH3130000000000000001', 'CH31 3000 0000 0000 0000 1', true],
    ['CH18 3199 9000 0000 0000 1', 'CH1831999000000000001', 'CH18 3199 9000 0000 0000 1', true],
    ['CH23 2999 9000 0000 0000 1', 'CH2329999000000000001', 'CH23 2999 9000 0000 0000 1', false],
    ['CH26 3200 0000 0000 0000 1', 'CH2632000000000000001', 'CH26 3200 0000 0000 0000 1', false],
    ['LI70 3000 0123 4567 8901 2', 'LI7030000123456789012', 'LI70 3000 0123 4567 8901 2', true],
    ['DE89 3704 0044 0532 0130 00', 'DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', false],
    ['AT61 1904 3002 3457 3201', 'AT611904300234573201', 'AT61 1904 3002 3457 3201', false],
    ['FR14 2004 1010 0505 0001 3M02 606', 'FR1420041010050500013M02606', 'FR14 2004 1010 0505 0001 3M02 606', false],
    ['IT60 X054 2811 1010 0000 0123 456', 'IT60X0542811101000000123456', 'IT60 X054 2811 1010 0000 0123 456', false],
    ['GB82 WEST 1234 5698 7654 32', 'GB82WEST12345698765432', 'GB82 WEST 1234 5698 7654 32', false],
    ['NL91 ABNA 0417 1643 00', 'NL91ABNA0417164300', 'NL91 ABNA 0417 1643 00', false],
    ['BE68 5390 0754 7034', 'BE68539007547034', 'BE68 5390 0754 7034', false],
    ['NO93 8601 1117 947', 'NO9386011117947', 'NO93 8601 1117 947', false],
    ['ES91 2100 0418 4502 0005 1332', 'ES9121000418450200051332', 'ES91 2100 0418 4502 0005 1332', false],
  ];
  for (const [written, electronic, formatted, qr] of valid) {
    it(`accepts ${written}`, () => {
      const iban = parseIban(written, 'input.iban');
      assert.equal(iban, electronic);
      assert.equal(formatIban(iban), formatted);
      assert.equal(isQrIban(iban), qr);
    });
  }

  const invalid: [written: string, why: RegExp][] = [
    ['CH94 0076 2011 6238 5295 7', /check digits/],
    ['CH93 0076 2011 6238 5295 8', /check digits/],
    ['CH93 0067 2011 6238 5295 7', /check digits/],
    ['LI22 0881 0000 2324 013A A', /check digits/],
    ['DE88 3704 0044 0532 0130 00', /check digits/],
    ['GB82 WEST 1234 5698 7654 33', /check digits/],
    ['CH93 0076 2011 6238 5295', /CH IBAN has 21 characters/],
    ['CH93 0076 2011 6238 5295 70', /CH IBAN has 21 characters/],
    ['LI21 0881 0000 2324 013A', /LI IBAN has 21 characters/],
    ['DE89 3704 0044 0532 0130 0', /DE IBAN has 22 characters/],
    ['CH93 A076 2011 6238 5295 7', /five-digit institution id/],
    ['CH93-0076-2011-6238-5295-7', /only letters, digits and spaces/],
    ['CH93 0076 2011 6238 5295 Ä', /only letters, digits and spaces/],
    ['CH93 0076 2011 6238 5295 7.', /only letters, digits and spaces/],
    ['US64 SVBK US6S 3300 9673 8637', /country US are not supported/],
    ['XX00 1234 5678 9012 3456 7', /country XX are not supported/],
    ['9300762011623852957', /country code and two check digits/],
    ['CHAB00762011623852957', /country code and two check digits/],
    ['', /country code and two check digits/],
    ['   ', /country code and two check digits/],
  ];
  for (const [written, why] of invalid) {
    it(`refuses ${JSON.stringify(written)} (${why.source})`, () => {
      assert.throws(() => parseIban(written, 'input.iban'), refusedAs('input.iban', why));
    });
  }

  it('never repeats the IBAN in its messages', () => {
    assert.throws(
      () => parseIban('CH94 0076 2011 6238 5295 7', 'input.iban'),
      (error: Error) => !/0076|2011|6238/.test(error.message),
    );
  });

  it('knows the lengths of Switzerland, Liechtenstein and their neighbours', () => {
    assert.deepEqual(
      ['CH', 'LI', 'DE', 'AT', 'FR', 'IT'].map((country) => ibanLengths[country]),
      [21, 21, 22, 20, 27, 27],
    );
    for (const [country, length] of Object.entries(ibanLengths)) {
      assert.match(country, /^[A-Z]{2}$/);
      assert.ok(length >= 15 && length <= 34, country);
    }
  });

  it('flags QR-IBANs only in Switzerland and Liechtenstein', () => {
    // A foreign IBAN whose characters 5 to 9 happen to fall in the QR range is an ordinary IBAN.
    assert.equal(isQrIban('DE89300400440532013000'), false);
  });
});
