import { badUserInput } from '@numezis/runtime';
import type { PostalAddress } from './validation/postal-address.ts';

/** The address columns of a row (contacts and employees share them) as the GraphQL `PostalAddress`. */
export function addressOf(row: PostalAddress): PostalAddress {
  return {
    street: row.street,
    buildingNumber: row.buildingNumber,
    postcode: row.postcode,
    town: row.town,
    country: row.country,
  };
}

/** Code 23505 on `constraint`, wherever the driver or Drizzle nested the database error. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let cause = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    const { code, constraint: violated } = cause as { code?: unknown; constraint?: unknown };
    if (code === '23505' && violated === constraint) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** The page size a list query uses: what the client asked for, within 0..200. */
export function pageSize(first: number): number {
  return Math.min(Math.max(first, 0), 200);
}

/** A field an update input may leave out but not set to null. */
export function required<Value>(value: Value | null, field: string): Value {
  if (value === null) throw badUserInput(field, `${field} cannot be removed`);
  return value;
}

/** An optional text field parsed, or null when it is absent, null or blank (a cleared form field). */
export function unlessBlank<Value>(text: string | null | undefined, parse: (text: string) => Value): Value | null {
  return text === null || text === undefined || text.trim() === '' ? null : parse(text);
}
