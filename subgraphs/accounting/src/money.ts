import { badUserInput } from '@numezis/runtime';

const amountPattern = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

/** "1250.5" → 125050n minor units (Rappen/cents). Amounts are never floats. */
export function parseAmount(text: string, field: string): bigint {
  const match = amountPattern.exec(text.trim());
  if (match === null) {
    throw badUserInput(field, `${field} must be a positive decimal with at most two fraction digits, e.g. 1250.50`);
  }
  const minor = BigInt(match[1] ?? '0') * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
  if (minor === 0n) throw badUserInput(field, `${field} must be greater than zero`);
  return minor;
}

export function formatAmount(minor: bigint): string {
  const whole = minor / 100n;
  const fraction = (minor % 100n).toString().padStart(2, '0');
  return `${whole}.${fraction}`;
}

export function parseCurrency(text: string, field: string): string {
  if (!/^[A-Z]{3}$/.test(text)) throw badUserInput(field, `${field} must be an ISO 4217 code such as CHF`);
  return text;
}

/** A real calendar date in YYYY-MM-DD. */
export function parseBookingDate(text: string, field: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = match === null ? undefined : new Date(`${text}T00:00:00Z`);
  if (date === undefined || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
    throw badUserInput(field, `${field} must be a calendar date in the form YYYY-MM-DD`);
  }
  return text;
}
