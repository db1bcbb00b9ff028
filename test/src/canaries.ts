import { randomInt } from 'node:crypto';

/** Personal data unique to one run, valid for the validators, so it can be searched for anywhere. */
export interface Canaries {
  /** Electronic form, e.g. CH9300762011623852957. */
  readonly iban: string;
  /** Paper form, in groups of four, e.g. CH93 0076 2011 6238 5295 7. */
  readonly ibanFormatted: string;
  /** The 13 digits, e.g. 7569217076985. */
  readonly ahvDigits: string;
  /** As on the insurance card, e.g. 756.9217.0769.85. */
  readonly ahvDotted: string;
  readonly street: string;
}

const randomDigits = (count: number) => Array.from({ length: count }, () => randomInt(10)).join('');

/** ISO 7064 mod 97-10 over an IBAN's characters, letters as 10..35. */
function mod97(text: string): number {
  let remainder = 0;
  for (const character of text) {
    const value = Number.parseInt(character, 36);
    remainder = value < 10 ? (remainder * 10 + value) % 97 : (remainder * 100 + value) % 97;
  }
  return remainder;
}

/** A Swiss IBAN with correct check digits: five-digit institution id (not a QR-IBAN one), twelve account digits. */
export function swissIban(account = randomDigits(12), institution = '00762'): string {
  const bban = institution + account;
  const check = 98 - mod97(`${bban}CH00`);
  return `CH${String(check).padStart(2, '0')}${bban}`;
}

/** An AHV number's 13 digits (756, nine digits, EAN-13 check digit). */
export function ahvNumber(middle = randomDigits(9)): string {
  const firstTwelve = `756${middle}`;
  let sum = 0;
  for (let index = 0; index < 12; index++) sum += Number(firstTwelve[index]) * (index % 2 === 0 ? 1 : 3);
  return `${firstTwelve}${(10 - (sum % 10)) % 10}`;
}

export function newCanaries(): Canaries {
  const iban = swissIban();
  const ahvDigits = ahvNumber();
  return {
    iban,
    ibanFormatted: iban.replace(/(.{4})(?=.)/g, '$1 '),
    ahvDigits,
    ahvDotted: `${ahvDigits.slice(0, 3)}.${ahvDigits.slice(3, 7)}.${ahvDigits.slice(7, 11)}.${ahvDigits.slice(11)}`,
    street: `Kanariengasse${randomDigits(12)}`,
  };
}
