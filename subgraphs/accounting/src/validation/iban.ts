import { badUserInput } from '@numezis/runtime';

/**
 * IBAN lengths (ISO 13616, SWIFT IBAN registry) for the countries Swiss SMEs pay and are paid from:
 * Europe and its neighbours. A country missing here is refused rather than guessed, since a wrong
 * length is the one mistake the mod-97 check can miss (a dropped or added zero).
 */
export const ibanLengths: Readonly<Record<string, number>> = {
  AD: 24,
  AL: 28,
  AT: 20,
  BA: 20,
  BE: 16,
  BG: 22,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  RS: 22,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TR: 26,
  UA: 29,
  VA: 22,
  XK: 20,
};

// Swiss and Liechtenstein BBAN: a five-digit institution id (IID), then twelve account characters.
const swissBban = /^[0-9]{5}[0-9A-Z]{12}$/;

function mod97(iban: string): number {
  // Country and check digits move to the end, letters become 10..35; folding digit by digit keeps
  // the remainder small, so no big integers are needed.
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const value = Number.parseInt(character, 36);
    remainder = value < 10 ? (remainder * 10 + value) % 97 : (remainder * 100 + value) % 97;
  }
  return remainder;
}

/**
 * An IBAN as people write it (spaces, lowercase) in its electronic form: uppercase, no spaces.
 * Refuses, naming `field`, anything that is not a valid IBAN of a country in `ibanLengths`. The
 * messages never repeat the value: an IBAN is personal data.
 */
export function parseIban(text: string, field: string): string {
  const iban = text.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z0-9]*$/.test(iban)) throw badUserInput(field, `${field} may contain only letters, digits and spaces`);
  if (!/^[A-Z]{2}[0-9]{2}/.test(iban)) {
    throw badUserInput(field, `${field} must start with a country code and two check digits, e.g. CH93`);
  }
  const country = iban.slice(0, 2);
  const length = ibanLengths[country];
  if (length === undefined) throw badUserInput(field, `${field}: IBANs of country ${country} are not supported`);
  if (iban.length !== length) throw badUserInput(field, `${field}: a ${country} IBAN has ${length} characters`);
  if ((country === 'CH' || country === 'LI') && !swissBban.test(iban.slice(4))) {
    throw badUserInput(field, `${field}: a ${country} IBAN has a five-digit institution id after the check digits`);
  }
  if (mod97(iban) !== 1) throw badUserInput(field, `${field}: the check digits do not match (mistyped?)`);
  return iban;
}

/** The paper form: groups of four, e.g. `CH93 0076 2011 6238 5295 7`. */
export function formatIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * A QR-IBAN (institution id 30000–31999, CH and LI only) may be paid only with a QR reference; a
 * payment with any other reference, or none, is rejected by the bank, so the UI has to know.
 */
export function isQrIban(iban: string): boolean {
  if (!iban.startsWith('CH') && !iban.startsWith('LI')) return false;
  const institutionId = Number(iban.slice(4, 9));
  return institutionId >= 30000 && institutionId <= 31999;
}
