import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseName, parsePostalAddress } from './postal-address.ts';
import type { PostalAddressInput } from './postal-address.ts';

const refusedAs = (field: string, message: RegExp) => (error: Error & { extensions?: Record<string, unknown> }) =>
  error.extensions?.code === 'BAD_USER_INPUT' && error.extensions.field === field && message.test(error.message);

const zurich: PostalAddressInput = {
  street: 'Bahnhofstrasse',
  buildingNumber: '1',
  postcode: '8001',
  town: 'Zürich',
  country: 'CH',
};

describe('postal address', () => {
  const valid: [case_: string, input: PostalAddressInput, expected: ReturnType<typeof parsePostalAddress>][] = [
    [
      'a Swiss address',
      zurich,
      { street: 'Bahnhofstrasse', buildingNumber: '1', postcode: '8001', town: 'Zürich', country: 'CH' },
    ],
    [
      'trimmed parts and a lowercase country',
      { street: '  Aeulestrasse ', buildingNumber: ' 5 ', postcode: ' 9490 ', town: ' Vaduz ', country: 'li' },
      { street: 'Aeulestrasse', buildingNumber: '5', postcode: '9490', town: 'Vaduz', country: 'LI' },
    ],
    [
      'no street or building number (a village address)',
      { postcode: '3920', town: 'Zermatt', country: 'CH' },
      { street: null, buildingNumber: null, postcode: '3920', town: 'Zermatt', country: 'CH' },
    ],
    [
      'blank optional parts as absent',
      { street: ' ', buildingNumber: '', postcode: '3920', town: 'Zermatt', country: 'CH' },
      { street: null, buildingNumber: null, postcode: '3920', town: 'Zermatt', country: 'CH' },
    ],
    [
      'a foreign postcode in its own form',
      { street: 'Downing Street', buildingNumber: '10', postcode: 'SW1A 2AA', town: 'London', country: 'GB' },
      { street: 'Downing Street', buildingNumber: '10', postcode: 'SW1A 2AA', town: 'London', country: 'GB' },
    ],
    [
      'the longest parts the QR-bill allows, counted in characters',
      {
        street: 'ä'.repeat(70),
        buildingNumber: '1'.repeat(16),
        postcode: '1'.repeat(16),
        town: 'é'.repeat(35),
        country: 'DE',
      },
      {
        street: 'ä'.repeat(70),
        buildingNumber: '1'.repeat(16),
        postcode: '1'.repeat(16),
        town: 'é'.repeat(35),
        country: 'DE',
      },
    ],
    [
      'decomposed umlauts composed (NFC), so they count as one character',
      { postcode: '8001', town: 'Zu\u0308rich', country: 'CH' },
      { street: null, buildingNumber: null, postcode: '8001', town: 'Zürich', country: 'CH' },
    ],
  ];
  for (const [case_, input, expected] of valid) {
    it(`accepts ${case_}`, () => {
      assert.deepEqual(parsePostalAddress(input, 'input.address'), expected);
    });
  }

  const invalid: [case_: string, input: PostalAddressInput, field: string, why: RegExp][] = [
    ['a missing postcode', { ...zurich, postcode: ' ' }, 'input.address.postcode', /must not be empty/],
    ['a missing town', { ...zurich, town: '' }, 'input.address.town', /must not be empty/],
    ['a five-digit Swiss postcode', { ...zurich, postcode: '80011' }, 'input.address.postcode', /four digits in CH/],
    ['a Swiss postcode with letters', { ...zurich, postcode: 'CH-8001' }, 'input.address.postcode', /four digits/],
    ['a three-digit LI postcode', { ...zurich, postcode: '949', country: 'LI' }, 'input.address.postcode', /in LI/],
    ['a country name', { ...zurich, country: 'Schweiz' }, 'input.address.country', /ISO 3166-1 alpha-2/],
    ['an alpha-3 country', { ...zurich, country: 'CHE' }, 'input.address.country', /ISO 3166-1 alpha-2/],
    ['a numeric country', { ...zurich, country: '75' }, 'input.address.country', /ISO 3166-1 alpha-2/],
    ['an empty country', { ...zurich, country: '' }, 'input.address.country', /ISO 3166-1 alpha-2/],
    ['a street of 71 characters', { ...zurich, street: 'a'.repeat(71) }, 'input.address.street', /at most 70/],
    ['a building number of 17', { ...zurich, buildingNumber: '1'.repeat(17) }, 'input.address.buildingNumber', /16/],
    ['a postcode of 17', { ...zurich, country: 'DE', postcode: '1'.repeat(17) }, 'input.address.postcode', /16/],
    ['a town of 36 characters', { ...zurich, town: 'a'.repeat(36) }, 'input.address.town', /at most 35/],
    ['a line break in the street', { ...zurich, street: 'Bahnhof\nstrasse' }, 'input.address.street', /control/],
  ];
  for (const [case_, input, field, why] of invalid) {
    it(`refuses ${case_}, naming ${field}`, () => {
      assert.throws(() => parsePostalAddress(input, 'input.address'), refusedAs(field, why));
    });
  }
});

describe('name', () => {
  it('accepts up to 70 characters, trimmed', () => {
    assert.equal(parseName('  Muster AG ', 'input.name'), 'Muster AG');
    assert.equal(parseName('ü'.repeat(70), 'input.name'), 'ü'.repeat(70));
  });

  it('refuses an empty name, a longer one and control characters', () => {
    assert.throws(() => parseName(' ', 'input.name'), refusedAs('input.name', /must not be empty/));
    assert.throws(() => parseName('a'.repeat(71), 'input.name'), refusedAs('input.name', /at most 70/));
    assert.throws(() => parseName('Muster\tAG', 'input.name'), refusedAs('input.name', /control/));
  });
});
