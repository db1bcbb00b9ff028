import { maskedAhv, maskedEmail, maskedIban, redacted } from '@numezis/runtime';
import type { JsonObject } from '@numezis/runtime';
import { formatAmount } from './money.ts';
import type { AccountRow, ContactRow, JournalEntryRow } from './tables.ts';

/*
 * The before/after images of the audit trail (issue #7). They take opened (decrypted) values and
 * mask every piece of personal data here, so nothing personal leaves the process in the clear.
 * Names stay: a contact's is business data, an employee's is shown to every payroll reader anyway.
 */

// Optional and nullable alike: a row, or the plaintext columns just parsed from an input.
interface AddressFields {
  readonly street?: string | null | undefined;
  readonly buildingNumber?: string | null | undefined;
  readonly postcode: string;
  readonly town: string;
  readonly country: string;
}

/** Only the country of an address says nothing about the person who lives there. */
function addressImage(address: AddressFields): JsonObject {
  return {
    street: redacted(address.street),
    buildingNumber: redacted(address.buildingNumber),
    postcode: redacted(address.postcode),
    town: redacted(address.town),
    country: address.country,
  };
}

export function accountImage(account: AccountRow): JsonObject {
  return { number: account.number, name: account.name, type: account.type };
}

export function journalEntryImage(entry: JournalEntryRow): JsonObject {
  return {
    bookingDate: entry.bookingDate,
    description: entry.description,
    amount: formatAmount(entry.amountMinor),
    currency: entry.currency,
    debitAccountId: entry.debitAccountId,
    creditAccountId: entry.creditAccountId,
  };
}

interface ContactFields extends AddressFields {
  readonly kind: ContactRow['kind'];
  readonly name: string;
  readonly email?: string | null | undefined;
  readonly iban?: string | null | undefined;
}

/** `contact` opened: its sealed columns hold plaintext. */
export function contactImage(contact: ContactFields): JsonObject {
  return {
    kind: contact.kind,
    name: contact.name,
    address: addressImage(contact),
    email: maskedEmail(contact.email),
    iban: maskedIban(contact.iban),
  };
}

interface EmployeeFields extends AddressFields {
  readonly name: string;
  readonly ahvNumber?: string | null | undefined;
}

/** `employee` opened. The schema holds no salary; were one added, it would not belong here. */
export function employeeImage(employee: EmployeeFields): JsonObject {
  return {
    name: employee.name,
    address: addressImage(employee),
    ahvNumber: maskedAhv(employee.ahvNumber),
  };
}
