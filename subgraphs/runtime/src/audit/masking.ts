/**
 * Personal data in an audit event's before/after images is masked where it is recorded: the trail
 * shows that a value changed and enough to recognise it, never the value itself.
 */

/** A value that must not appear at all (an address line, a secret): only whether it is set. */
export function redacted(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : '[redacted]';
}

/** An IBAN as its last four characters. */
export function maskedIban(iban: string | null | undefined): string | null {
  if (iban === null || iban === undefined || iban === '') return null;
  const compact = iban.replace(/\s+/g, '');
  return `****${compact.slice(-4)}`;
}

/** An email address as its first character and its domain: `j***@example.ch`. */
export function maskedEmail(email: string | null | undefined): string | null {
  if (email === null || email === undefined || email === '') return null;
  const at = email.lastIndexOf('@');
  if (at < 1) return '[redacted]';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** A Swiss AHV number (756.1234.5678.97) with only its country prefix and check digits. */
export function maskedAhv(ahv: string | null | undefined): string | null {
  if (ahv === null || ahv === undefined || ahv === '') return null;
  const digits = ahv.replace(/\D/g, '');
  return `${digits.slice(0, 3)}.****.****.${digits.slice(-2)}`;
}
