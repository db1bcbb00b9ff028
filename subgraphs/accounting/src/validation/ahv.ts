import { badUserInput } from '@numezis/runtime';

const dotted = /^756\.[0-9]{4}\.[0-9]{4}\.[0-9]{2}$/;
const plain = /^756[0-9]{10}$/;

/** EAN-13: weights 1 and 3 alternate from the left over the first twelve digits. */
function ean13CheckDigit(firstTwelve: string): number {
  let sum = 0;
  for (let index = 0; index < 12; index++) sum += Number(firstTwelve[index]) * (index % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

/**
 * A Swiss social security number (AHV/AVS, `756.XXXX.XXXX.XC`), with or without its dots, as the 13
 * digits it is stored as. The messages never repeat the number.
 */
export function parseAhvNumber(text: string, field: string): string {
  const trimmed = text.trim();
  if (!dotted.test(trimmed) && !plain.test(trimmed)) {
    throw badUserInput(field, `${field} must be 13 digits starting with 756, e.g. 756.1234.5678.97`);
  }
  const digits = trimmed.replaceAll('.', '');
  if (ean13CheckDigit(digits) !== Number(digits[12])) {
    throw badUserInput(field, `${field}: the check digit does not match (mistyped?)`);
  }
  return digits;
}

/** `7569217076985` → `756.9217.0769.85`, the form printed on the insurance card. */
export function formatAhvNumber(digits: string): string {
  return `${digits.slice(0, 3)}.${digits.slice(3, 7)}.${digits.slice(7, 11)}.${digits.slice(11)}`;
}

/**
 * The number as shown to anyone but payroll: country prefix and the last two digits, the rest
 * starred (`756.****.****.85`), enough to tell two employees' cards apart, not to use one.
 */
export function maskAhvNumber(digits: string): string {
  return `${digits.slice(0, 3)}.****.****.${digits.slice(11)}`;
}
