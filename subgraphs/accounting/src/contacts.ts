import { randomUUID } from 'node:crypto';
import { asc, eq, ilike, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { auditChange, authorize, badUserInput, clientError, ErrorCode, isUuid } from '@numezis/runtime';
import type { DataAccess, FieldCipher, Tx } from '@numezis/runtime';
import { contactImage } from './audit-images.ts';
import { updateLocked } from './locked-update.ts';
import { addressOf, isUniqueViolation, pageSize, required, unlessBlank } from './resolver-helpers.ts';
import type { AccountingContext } from './resolvers.ts';
import { contacts, contactsSealed } from './tables.ts';
import type { contactKinds, ContactRow } from './tables.ts';
import { parseEmail } from './validation/email.ts';
import { formatIban, isQrIban, parseIban } from './validation/iban.ts';
import { nameMaxLength, parseName, parsePostalAddress } from './validation/postal-address.ts';
import type { PostalAddressInput } from './validation/postal-address.ts';

type ContactKind = (typeof contactKinds)[number];

interface CreateContactInput {
  readonly kind: ContactKind;
  readonly name: string;
  readonly address: PostalAddressInput;
  readonly email?: string | null;
  readonly iban?: string | null;
}

/** Absent fields keep their value; null removes an optional one and is refused for a required one. */
interface UpdateContactInput {
  readonly kind?: ContactKind | null;
  readonly name?: string | null;
  readonly address?: PostalAddressInput | null;
  readonly email?: string | null;
  readonly iban?: string | null;
}

type ContactColumns = Omit<typeof contacts.$inferInsert, 'tenantId' | 'id' | 'createdAt' | 'updatedAt'>;

const optionalEmail = (value: string | null | undefined) =>
  unlessBlank(value, (text) => parseEmail(text, 'input.email'));
const optionalIban = (value: string | null | undefined) => unlessBlank(value, (text) => parseIban(text, 'input.iban'));

function createdColumns(input: CreateContactInput): ContactColumns {
  return {
    kind: input.kind,
    name: parseName(input.name, 'input.name'),
    ...parsePostalAddress(input.address, 'input.address'),
    email: optionalEmail(input.email),
    iban: optionalIban(input.iban),
  };
}

function changedColumns(input: UpdateContactInput): Partial<ContactColumns> {
  const changes: Partial<ContactColumns> = {};
  if (input.kind !== undefined) changes.kind = required(input.kind, 'input.kind');
  if (input.name !== undefined) changes.name = parseName(required(input.name, 'input.name'), 'input.name');
  if (input.address !== undefined) {
    Object.assign(changes, parsePostalAddress(required(input.address, 'input.address'), 'input.address'));
  }
  if (input.email !== undefined) changes.email = optionalEmail(input.email);
  if (input.iban !== undefined) changes.iban = optionalIban(input.iban);
  return changes;
}

/** `%term%` for ILIKE, with the term's own `%`, `_` and `\` matching literally. */
function nameFilter(search: string | null | undefined): SQL | undefined {
  const term = (search ?? '').normalize('NFC').trim();
  if (term === '') return undefined;
  if ([...term].length > nameMaxLength) {
    throw badUserInput('search', `search must be at most ${nameMaxLength} characters, like the names it searches`);
  }
  return ilike(contacts.name, `%${term.replace(/[\\%_]/g, '\\$&')}%`);
}

/** Writes `work`'s contact; an IBAN another contact of the workspace has is the caller's mistake, not ours. */
async function guardIban<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error, 'contacts_tenant_iban_key')) {
      throw badUserInput('input.iban', 'input.iban already belongs to another contact of this workspace');
    }
    throw error;
  }
}

/**
 * The IBAN's keyed blind index: lookups and the one-contact-per-IBAN rule compare these, so the
 * database never sees an IBAN in the clear.
 */
const ibanIndexOf = (fields: FieldCipher, tenantId: string, iban: string) =>
  fields.blindIndex({ tenantId, table: 'contacts', column: 'iban' }, iban);

/** Columns as written: personal data sealed for this row, the IBAN's blind index beside it. */
async function sealedColumnsOf<C extends Partial<ContactColumns>>(
  fields: FieldCipher,
  tenantId: string,
  id: string,
  columns: C,
): Promise<C & { ibanIndex?: string | null | undefined }> {
  const sealed = await contactsSealed.seal(fields, tenantId, id, columns);
  if (columns.iban === undefined) return sealed;
  const ibanIndex = columns.iban === null ? null : await ibanIndexOf(fields, tenantId, columns.iban);
  return { ...sealed, ibanIndex };
}

async function selectContact(tx: Tx, id: string, lock: boolean): Promise<ContactRow | undefined> {
  const query = tx.select().from(contacts).where(eq(contacts.id, id));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export function contactResolvers(dataAccess: DataAccess, fields: FieldCipher) {
  return {
    Query: {
      contacts: async (
        _: unknown,
        { search, first }: { search?: string | null; first: number },
        context: AccountingContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Query.contacts');
        const filter = nameFilter(search);
        const rows = await dataAccess.inTenant(tenantId, (tx) =>
          tx
            .select()
            .from(contacts)
            .where(filter)
            .orderBy(sql`lower(${contacts.name})`, asc(contacts.id))
            .limit(pageSize(first)),
        );
        return contactsSealed.openAll(fields, tenantId, rows);
      },
      contact: (_: unknown, { id }: { id: string }, context: AccountingContext) => {
        authorize(context.forwarded, 'Query.contact');
        return isUuid(id) ? context.loaders.contacts.load(id) : null;
      },
      contactByIban: async (_: unknown, args: { iban: string }, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Query.contactByIban');
        const index = await ibanIndexOf(fields, tenantId, parseIban(args.iban, 'iban'));
        const [row] = await dataAccess.inTenant(tenantId, (tx) =>
          tx.select().from(contacts).where(eq(contacts.ibanIndex, index)),
        );
        return row === undefined ? null : contactsSealed.open(fields, tenantId, row);
      },
    },
    Mutation: {
      createContact: async (_: unknown, { input }: { input: CreateContactInput }, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createContact');
        const id = randomUUID();
        const created = createdColumns(input);
        const columns = await sealedColumnsOf(fields, tenantId, id, created);
        const row = await guardIban(() =>
          dataAccess.inTenant(tenantId, async (tx) => {
            const [inserted] = await tx
              .insert(contacts)
              .values({ ...columns, tenantId, id })
              .returning();
            // The image comes from the plaintext written, never from the sealed row.
            await auditChange(tx, { targets: [{ type: 'Contact', id }], before: null, after: contactImage(created) });
            return inserted;
          }),
        );
        return row === undefined ? null : contactsSealed.open(fields, tenantId, row);
      },
      updateContact: async (
        _: unknown,
        { id, input }: { id: string; input: UpdateContactInput },
        context: AccountingContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Mutation.updateContact');
        let row: ContactRow | undefined;
        if (isUuid(id)) {
          const changed = changedColumns(input);
          const changes = await sealedColumnsOf(fields, tenantId, id, changed);
          row = await guardIban(() =>
            updateLocked(
              dataAccess,
              tenantId,
              (tx, lock) => selectContact(tx, id, lock),
              (sealed) => contactsSealed.open(fields, tenantId, sealed),
              async (tx, before) => {
                const [updated] = await tx
                  .update(contacts)
                  .set({ ...changes, updatedAt: sql`now()` })
                  .where(eq(contacts.id, id))
                  .returning();
                // Both images from plaintext: the row as this transaction locked it, and the change.
                await auditChange(tx, {
                  targets: [{ type: 'Contact', id }],
                  before: contactImage(before),
                  after: contactImage({ ...before, ...changed }),
                });
                return updated;
              },
            ),
          );
        }
        // Another workspace's contact is invisible under row-level security: it answers as a missing one.
        if (row === undefined) throw clientError(ErrorCode.NOT_FOUND, 'Contact not found', { field: 'id' });
        return contactsSealed.open(fields, tenantId, row);
      },
    },
    Contact: {
      address: addressOf,
      iban: (contact: ContactRow) =>
        contact.iban === null
          ? null
          : { electronic: contact.iban, formatted: formatIban(contact.iban), isQrIban: isQrIban(contact.iban) },
      createdAt: (contact: ContactRow) => contact.createdAt.toISOString(),
      updatedAt: (contact: ContactRow) => contact.updatedAt.toISOString(),
    },
  };
}
