import { randomUUID } from 'node:crypto';
import { asc, desc, eq, sql } from 'drizzle-orm';
import { auditChange, authorize, clientError, ErrorCode, isUuid, requirePermission } from '@numezis/runtime';
import type { DataAccess, FieldCipher, ForwardedContext, Tx } from '@numezis/runtime';
import { employeeImage } from './audit-images.ts';
import { updateLocked } from './locked-update.ts';
import { addressOf, pageSize, required, unlessBlank } from './resolver-helpers.ts';
import type { AccountingContext } from './resolvers.ts';
import { employees, employeesSealed, sensitiveReads } from './tables.ts';
import type { EmployeeRow, SensitiveReadRow } from './tables.ts';
import { formatAhvNumber, maskAhvNumber, parseAhvNumber } from './validation/ahv.ts';
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
    ahvNumber: optionalAhvNumber(input.ahvNumber),
  };
}

function changedColumns(input: UpdateEmployeeInput): Partial<EmployeeColumns> {
  const changes: Partial<EmployeeColumns> = {};
  if (input.name !== undefined) changes.name = parseName(required(input.name, 'input.name'), 'input.name');
  if (input.address !== undefined) {
    Object.assign(changes, parsePostalAddress(required(input.address, 'input.address'), 'input.address'));
  }
  if (input.ahvNumber !== undefined) changes.ahvNumber = optionalAhvNumber(input.ahvNumber);
  return changes;
}

/**
 * Records that the caller is about to read a full AHV number. It is written, and committed, before
 * the number is returned: a read that cannot be recorded does not happen.
 */
async function recordAhvRead(dataAccess: DataAccess, context: ForwardedContext, employeeId: string): Promise<void> {
  const tenantId = requirePermission(context, 'payroll.read');
  const { actor } = context;
  if (actor.kind === 'anonymous') throw new Error('an anonymous caller reached an AHV number');
  await dataAccess.inTenant(tenantId, (tx) =>
    tx.insert(sensitiveReads).values({
      tenantId,
      id: randomUUID(),
      actorKind: actor.kind,
      actorId: actor.kind === 'user' ? actor.userId : actor.keyId,
      requestId: context.requestId,
      clientIp: context.clientIp,
      userAgent: context.userAgent?.slice(0, 1000) ?? null,
      subjectType: 'Employee',
      subjectId: employeeId,
      field: 'ahvNumber',
    }),
  );
}

async function selectEmployee(tx: Tx, id: string, lock: boolean): Promise<EmployeeRow | undefined> {
  const query = tx.select().from(employees).where(eq(employees.id, id));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

/**
 * The AHV number is payroll's most sensitive field: stored sealed, never a lookup key (no query or
 * index by it), never in a list (`employees` returns `EmployeeSummary`, which lacks it), shown
 * masked, and in full only to payroll.read, each full read recorded first.
 */
export function employeeResolvers(dataAccess: DataAccess, fields: FieldCipher) {
  return {
    Query: {
      sensitiveReads: async (_: unknown, { first }: { first: number }, context: AccountingContext) =>
        dataAccess.inTenant(authorize(context.forwarded, 'Query.sensitiveReads'), (tx) =>
          tx
            .select()
            .from(sensitiveReads)
            .orderBy(desc(sensitiveReads.at), desc(sensitiveReads.id))
            .limit(pageSize(first)),
        ),
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
      createEmployee: async (_: unknown, { input }: { input: CreateEmployeeInput }, context: AccountingContext) => {
        const tenantId = authorize(context.forwarded, 'Mutation.createEmployee');
        const id = randomUUID();
        const created = createdColumns(input);
        const columns = await employeesSealed.seal(fields, tenantId, id, created);
        const row = await dataAccess.inTenant(tenantId, async (tx) => {
          const [inserted] = await tx
            .insert(employees)
            .values({ ...columns, tenantId, id })
            .returning();
          // The image comes from the plaintext written, never from the sealed row.
          await auditChange(tx, { targets: [{ type: 'Employee', id }], before: null, after: employeeImage(created) });
          return inserted;
        });
        return row === undefined ? null : employeesSealed.open(fields, tenantId, row);
      },
      updateEmployee: async (
        _: unknown,
        { id, input }: { id: string; input: UpdateEmployeeInput },
        context: AccountingContext,
      ) => {
        const tenantId = authorize(context.forwarded, 'Mutation.updateEmployee');
        let row: EmployeeRow | undefined;
        if (isUuid(id)) {
          const changed = changedColumns(input);
          const changes = await employeesSealed.seal(fields, tenantId, id, changed);
          row = await updateLocked(
            dataAccess,
            tenantId,
            (tx, lock) => selectEmployee(tx, id, lock),
            (sealed) => employeesSealed.open(fields, tenantId, sealed),
            async (tx, before) => {
              const [updated] = await tx
                .update(employees)
                .set({ ...changes, updatedAt: sql`now()` })
                .where(eq(employees.id, id))
                .returning();
              // Both images from plaintext: the row as this transaction locked it, and the change.
              await auditChange(tx, {
                targets: [{ type: 'Employee', id }],
                before: employeeImage(before),
                after: employeeImage({ ...before, ...changed }),
              });
              return updated;
            },
          );
        }
        // Another workspace's employee is invisible under row-level security: it answers as a missing one.
        if (row === undefined) throw clientError(ErrorCode.NOT_FOUND, 'Employee not found', { field: 'id' });
        return employeesSealed.open(fields, tenantId, row);
      },
    },
    Employee: {
      address: addressOf,
      ahvNumber: (employee: EmployeeRow) => (employee.ahvNumber === null ? null : maskAhvNumber(employee.ahvNumber)),
      ahvNumberUnmasked: async (employee: EmployeeRow, _: unknown, context: AccountingContext) => {
        // The field directive refuses first; recordAhvRead checks the permission again where the number is read.
        if (employee.ahvNumber === null) return null;
        await recordAhvRead(dataAccess, context.forwarded, employee.id);
        return formatAhvNumber(employee.ahvNumber);
      },
      createdAt: (employee: EmployeeRow) => employee.createdAt.toISOString(),
      updatedAt: (employee: EmployeeRow) => employee.updatedAt.toISOString(),
    },
    SensitiveRead: {
      at: (read: SensitiveReadRow) => read.at.toISOString(),
      actor: (read: SensitiveReadRow) => ({ kind: read.actorKind === 'user' ? 'USER' : 'API_KEY', id: read.actorId }),
    },
  };
}
