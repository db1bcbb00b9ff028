import { randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { authorize, clientError, ErrorCode, isUuid, requirePermission } from '@numezis/runtime';
import type { DataAccess } from '@numezis/runtime';
import { addressOf, pageSize, required, unlessBlank } from './resolver-helpers.ts';
import type { AccountingContext } from './resolvers.ts';
import { employees } from './tables.ts';
import type { EmployeeRow } from './tables.ts';
import { formatAhvNumber, parseAhvNumber } from './validation/ahv.ts';
import { parseName, parsePostalAddress } from './validation/postal-address.ts';
import type { PostalAddressInput } from './validation/postal-address.ts';

interface CreateEmployeeInput {
  readonly name: string;
  readonly address: PostalAddressInput;
  readonly ahvNumber?: string | null;
}

/** Absent fields keep their value; null removes the AHV number and is refused for the rest. */
interface UpdateEmployeeInput {
  readonly name?: string | null;
  readonly address?: PostalAddressInput | null;
  readonly ahvNumber?: string | null;
}

type EmployeeColumns = Omit<typeof employees.$inferInsert, 'tenantId' | 'id' | 'createdAt' | 'updatedAt'>;

// Blank means not assigned yet: a new hire from abroad gets a number only after registration.
const optionalAhvNumber = (value: string | null | undefined) =>
  unlessBlank(value, (text) => parseAhvNumber(text, 'input.ahvNumber'));

function createdColumns(input: CreateEmployeeInput): EmployeeColumns {
  return {
    name: parseName(input.name, 'input.name'),
    ...parsePostalAddress(input.address, 'input.address'),
    ahvNumberPlaintext: optionalAhvNumber(input.ahvNumber),
  };
}

function changedColumns(input: UpdateEmployeeInput): Partial<EmployeeColumns> {
  const changes: Partial<EmployeeColumns> = {};
  if (input.name !== undefined) changes.name = parseName(required(input.name, 'input.name'), 'input.name');
  if (input.address !== undefined) {
    Object.assign(changes, parsePostalAddress(required(input.address, 'input.address'), 'input.address'));
  }
  if (input.ahvNumber !== undefined) changes.ahvNumberPlaintext = optionalAhvNumber(input.ahvNumber);
  return changes;
}

/**
 * The AHV number is payroll's most sensitive field: never a lookup key (no query or index by it),
 * never in a list (`employees` returns `EmployeeSummary`, which lacks it), and readable only with
 * payroll.read, also when a payroll.write-only role gets an employee back from a mutation.
 */
export function employeeResolvers(dataAccess: DataAccess) {
  return {
    Query: {
      employees: (_: unknown, { first }: { first: number }, context: AccountingContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.employees'), (tx) =>
          tx
            .select({ id: employees.id, name: employees.name })
            .from(employees)
            .orderBy(sql`lower(${employees.name})`, asc(employees.id))
            .limit(pageSize(first)),
        ),
      employee: (_: unknown, { id }: { id: string }, context: AccountingContext) => {
        authorize(context.forwarded, 'Query.employee');
        return isUuid(id) ? context.loaders.employees.load(id) : null;
      },
    },
    Mutation: {
      createEmployee: (_: unknown, { input }: { input: CreateEmployeeInput }, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createEmployee');
        const columns = createdColumns(input);
        return dataAccess.inTenant(tenantId, async (tx) => {
          const [row] = await tx
            .insert(employees)
            .values({ ...columns, tenantId, id: randomUUID() })
            .returning();
          return row;
        });
      },
      updateEmployee: async (
        _: unknown,
        { id, input }: { id: string; input: UpdateEmployeeInput },
        context: AccountingContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Mutation.updateEmployee');
        const changes = changedColumns(input);
        const row = !isUuid(id)
          ? undefined
          : await dataAccess.inTenant(tenantId, async (tx) => {
              const [updated] = await tx
                .update(employees)
                .set({ ...changes, updatedAt: sql`now()` })
                .where(eq(employees.id, id))
                .returning();
              return updated;
            });
        // Another workspace's employee is invisible under row-level security: it answers as a missing one.
        if (row === undefined) throw clientError(ErrorCode.NOT_FOUND, 'Employee not found', { field: 'id' });
        return row;
      },
    },
    Employee: {
      address: addressOf,
      ahvNumber: (employee: EmployeeRow, _: unknown, context: AccountingContext) => {
        // The field directive refuses first; this keeps the rule where the number is read.
        requirePermission(context.forwarded, 'payroll.read');
        return employee.ahvNumberPlaintext === null ? null : formatAhvNumber(employee.ahvNumberPlaintext);
      },
      createdAt: (employee: EmployeeRow) => employee.createdAt.toISOString(),
      updatedAt: (employee: EmployeeRow) => employee.updatedAt.toISOString(),
    },
  };
}
