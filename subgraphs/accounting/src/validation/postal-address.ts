import { badUserInput } from '@numezis/runtime';

/**
 * The structured address (type S) of the Swiss QR-bill: what a contact or employee must have so a
 * bill or payslip can be addressed without guessing which line is the town. Limits are the QR-bill
 * implementation guidelines' field lengths, in characters.
 */
export interface PostalAddress {
  readonly street: string | null;
  readonly buildingNumber: string | null;
  readonly postcode: string;
  readonly town: string;
  /** ISO 3166-1 alpha-2, uppercase. */
  readonly country: string;
}

export interface PostalAddressInput {
  readonly street?: string | null;
  readonly buildingNumber?: string | null;
  readonly postcode: string;
  readonly town: string;
  readonly country: string;
}

export const nameMaxLength = 70;

/**
 * Trimmed text in Unicode NFC, counted in characters (code points) as the QR-bill and PostgreSQL's
 * `length()` count them; null when blank.
 */
function optionalText(value: string | null | undefined, field: string, maxLength: number): string | null {
  const text = (value ?? '').normalize('NFC').trim();
  if (text.length === 0) return null;
  if ([...text].length > maxLength) throw badUserInput(field, `${field} must be at most ${maxLength} characters`);
  // eslint-disable-next-line no-control-regex -- a control character would break the printed bill
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text))
    throw badUserInput(field, `${field} must not contain control characters`);
  return text;
}

function requiredText(value: string, field: string, maxLength: number): string {
  const text = optionalText(value, field, maxLength);
  if (text === null) throw badUserInput(field, `${field} must not be empty`);
  return text;
}

/** The name of a contact or employee: the first line of a QR-bill address block. */
export function parseName(value: string, field: string): string {
  return requiredText(value, field, nameMaxLength);
}

/** Validates an address given as `field` (e.g. `input.address`), naming the offending part. */
export function parsePostalAddress(input: PostalAddressInput, field: string): PostalAddress {
  const country = input.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) {
    throw badUserInput(`${field}.country`, `${field}.country must be an ISO 3166-1 alpha-2 code such as CH`);
  }
  const postcode = requiredText(input.postcode, `${field}.postcode`, 16);
  if ((country === 'CH' || country === 'LI') && !/^[0-9]{4}$/.test(postcode)) {
    throw badUserInput(`${field}.postcode`, `${field}.postcode must be four digits in ${country}`);
  }
  return {
    street: optionalText(input.street, `${field}.street`, 70),
    buildingNumber: optionalText(input.buildingNumber, `${field}.buildingNumber`, 16),
    postcode,
    town: requiredText(input.town, `${field}.town`, 35),
    country,
  };
}
