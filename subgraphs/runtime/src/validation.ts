import { badUserInput } from './errors.ts';

/** Trimmed, non-empty text of bounded length, without control characters; the error names the field. */
export function requiredText(value: string, field: string, maxLength = 200): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw badUserInput(field, `${field} must not be empty`);
  if (trimmed.length > maxLength) throw badUserInput(field, `${field} must be at most ${maxLength} characters`);
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw badUserInput(field, `${field} must not contain control characters`);
  return trimmed;
}
