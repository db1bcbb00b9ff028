// Each request creates a contact with an IBAN of its own: the workspace holds one contact per IBAN,
// so a repeated IBAN would be refused instead of measured.

/** The remainder of a long decimal string modulo 97, folded digit by digit (no big integers). */
function mod97(digits: string): number {
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  return remainder;
}

/**
 * The `n`-th Swiss IBAN: institution id 00762 (a bank's, not a QR-IBAN's), account number `n`, and
 * the ISO 13616 check digits, so accounting's mod-97 validation accepts it.
 */
export function swissIban(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 1e12) throw new RangeError('account number out of range');
  const bban = `00762${String(n).padStart(12, '0')}`;
  // Country and placeholder check digits move behind the BBAN, letters as numbers: C = 12, H = 17.
  const check = 98 - mod97(`${bban}121700`);
  return `CH${String(check).padStart(2, '0')}${bban}`;
}
