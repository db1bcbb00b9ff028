import { badUserInput } from '@numezis/runtime';

/**
 * A plausible mail address: one `@`, no spaces, a dot in the domain, at most 254 characters (the
 * SMTP path limit). Deliverability is the mail's business; this only catches typing slips.
 */
export function parseEmail(text: string, field: string): string {
  const email = text.trim();
  if (
    email.length > 254 ||
    !/^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/.test(email) ||
    // eslint-disable-next-line no-control-regex -- invisible characters make an address that looks right
    /[\u0000-\u001f\u007f-\u009f]/.test(email)
  ) {
    throw badUserInput(field, `${field} must be a mail address such as buchhaltung@example.ch`);
  }
  return email;
}
