import { randomUUID } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { asc, count, desc, eq, inArray, max } from 'drizzle-orm';
import {
  auditChange,
  authorize,
  authorizePortfolio,
  badUserInput,
  clientError,
  ErrorCode,
  isUuid,
  requiredText,
} from '@numezis/runtime';
import type { DataAccess, FieldCipher, SubgraphContext } from '@numezis/runtime';
import { accountImage, journalEntryImage } from './audit-images.ts';
import { contactResolvers } from './contacts.ts';
import { employeeResolvers } from './employees.ts';
import type { Loaders } from './loaders.ts';
import { formatAmount, parseAmount, parseBookingDate, parseCurrency } from './money.ts';
import { accounts, journalEntries } from './tables.ts';
import type { accountTypes } from './tables.ts';
import type { JournalEntryRow } from './tables.ts';

export interface AccountingContext extends SubgraphContext {
  readonly loaders: Loaders;
}

type AccountType = (typeof accountTypes)[number];

interface CreateAccountArgs {
  input: { number: string; name: string; type: AccountType };
}

interface PostJournalEntryArgs {
  input: {
    bookingDate: string;
    description: string;
    amount: string;
    currency: string;
    debitAccountId: string;
    creditAccountId: string;
  };
}

const maxPageSize = 200;

export function accountingResolvers(
  dataAccess: DataAccess,
  fields: FieldCipher,
): GraphQLResolverMap<AccountingContext> {
  const contactFields = contactResolvers(dataAccess, fields);
  const employeeFields = employeeResolvers(dataAccess, fields);
  return {
    Query: {
      ...contactFields.Query,
      ...employeeFields.Query,
      accounts: (_: unknown, __: unknown, context: AccountingContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.accounts'), (tx) =>
          tx.select().from(accounts).orderBy(asc(accounts.number)),
        ),
      journalEntries: (_: unknown, { first }: { first: number }, context: AccountingContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.journalEntries'), (tx) =>
          tx
            .select()
            .from(journalEntries)
            .orderBy(desc(journalEntries.bookingDate), desc(journalEntries.createdAt))
            .limit(Math.min(Math.max(first, 0), maxPageSize)),
        ),
      journalEntry: (_: unknown, { id }: { id: string }, context: AccountingContext) => {
        authorize(context.forwarded, 'Query.journalEntry');
        return isUuid(id) ? context.loaders.journalEntries.load(id) : null;
      },
      portfolioBooks: (_: unknown, __: unknown, context: AccountingContext) => {
        const { access, permission } = authorizePortfolio(context.forwarded, 'Query.portfolioBooks');
        return dataAccess.inPortfolio(access, permission, async (tx, client) => {
          // Row-level security already limits the pass to this client; the filter says so in the query too.
          const [books] = await tx
            .select({ entries: count(), latest: max(journalEntries.bookingDate) })
            .from(journalEntries)
            .where(eq(journalEntries.tenantId, client.tenantId));
          return {
            workspace: { __typename: 'Tenant', id: client.tenantId },
            journalEntryCount: books?.entries ?? 0,
            latestBookingDate: books?.latest ?? null,
          };
        });
      },
    },
    Mutation: {
      ...contactFields.Mutation,
      ...employeeFields.Mutation,
      createAccount: async (_: unknown, { input }: CreateAccountArgs, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createAccount');
        const number = input.number.trim();
        if (!/^[0-9]{3,8}$/.test(number)) throw badUserInput('number', 'number must be 3 to 8 digits, e.g. 1020');
        const name = requiredText(input.name, 'name');
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [existing] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.number, number));
          if (existing !== undefined) throw badUserInput('number', `account ${number} already exists`);
          const [row] = await tx
            .insert(accounts)
            .values({ tenantId, id: randomUUID(), number, name, type: input.type })
            .returning();
          if (row === undefined) throw new Error('insert returned no account');
          await auditChange(tx, { targets: [{ type: 'Account', id: row.id }], before: null, after: accountImage(row) });
          return row;
        });
      },
      postJournalEntry: async (_: unknown, { input }: PostJournalEntryArgs, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.postJournalEntry');
        const values = {
          bookingDate: parseBookingDate(input.bookingDate, 'bookingDate'),
          description: requiredText(input.description, 'description', 500),
          amountMinor: parseAmount(input.amount, 'amount'),
          currency: parseCurrency(input.currency, 'currency'),
          debitAccountId: input.debitAccountId,
          creditAccountId: input.creditAccountId,
        };
        if (values.debitAccountId === values.creditAccountId) {
          throw badUserInput('creditAccountId', 'debit and credit account must differ');
        }
        const author = context.forwarded.actor;
        return dataAccess.inTenant(tenantId, async (tx) => {
          const ids = [values.debitAccountId, values.creditAccountId].filter(isUuid);
          const found = new Set(
            (await tx.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids))).map((row) => row.id),
          );
          for (const field of ['debitAccountId', 'creditAccountId'] as const) {
            if (!found.has(values[field])) {
              throw clientError(ErrorCode.NOT_FOUND, 'Account not found', { field });
            }
          }
          const [row] = await tx
            .insert(journalEntries)
            .values({
              ...values,
              tenantId,
              id: randomUUID(),
              authorId: author.kind === 'user' ? author.userId : null,
            })
            .returning();
          if (row === undefined) throw new Error('insert returned no journal entry');
          await auditChange(tx, {
            targets: [{ type: 'JournalEntry', id: row.id }],
            before: null,
            after: journalEntryImage(row),
          });
          return row;
        });
      },
    },
    Contact: contactFields.Contact,
    Employee: employeeFields.Employee,
    SensitiveRead: employeeFields.SensitiveRead,
    Account: {
      __resolveReference: (reference: { id: string }, context: AccountingContext) =>
        context.loaders.accounts.load(reference.id),
    },
    JournalEntry: {
      __resolveReference: (reference: { id: string }, context: AccountingContext) =>
        context.loaders.journalEntries.load(reference.id),
      amount: (entry: JournalEntryRow) => formatAmount(entry.amountMinor),
      currency: (entry: JournalEntryRow) => entry.currency,
      debitAccount: (entry: JournalEntryRow, _: unknown, context: AccountingContext) =>
        context.loaders.accounts.load(entry.debitAccountId),
      creditAccount: (entry: JournalEntryRow, _: unknown, context: AccountingContext) =>
        context.loaders.accounts.load(entry.creditAccountId),
      author: (entry: JournalEntryRow) => (entry.authorId === null ? null : { __typename: 'User', id: entry.authorId }),
      createdAt: (entry: JournalEntryRow) => entry.createdAt.toISOString(),
    },
  };
}
