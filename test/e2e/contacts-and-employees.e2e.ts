import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { addMember, createContact, createEmployee, createWorkspace, sampleAddress } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();

interface ContactView {
  name: string;
  kind: string;
  iban: { electronic: string; formatted: string; isQrIban: boolean } | null;
}

const contactFields = 'name kind iban { electronic formatted isQrIban }';
const fieldOf = (result: GraphQLResult<unknown>) => result.body.errors?.[0]?.extensions?.field;

const byIban = (as: Caller, iban: string) =>
  graphql<{ contactByIban: ContactView | null }>(
    stack.gatewayUrl,
    `query ($iban: String!) { contactByIban(iban: $iban) { ${contactFields} } }`,
    { as, variables: { iban } },
  );

const createEmployeeAs = (as: Caller, input: Record<string, unknown>) =>
  graphql<{ createEmployee: { id: string; ahvNumber: string | null } }>(
    stack.gatewayUrl,
    'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id ahvNumber } }',
    { as, variables: { input: { address: sampleAddress, ...input } } },
  );

describe('contacts', () => {
  it('are created, searched by name and found by IBAN however it is written', async () => {
    const admin = await createWorkspace(stack);
    await createContact(stack.gatewayUrl, admin, { name: 'Müller Treuhand AG', iban: 'ch93 0076 2011 6238 5295 7' });
    await createContact(stack.gatewayUrl, admin, { name: 'Bäckerei Müller', kind: 'CUSTOMER' });
    await createContact(stack.gatewayUrl, admin, { name: 'Schmid & Co' });

    const { contacts } = dataOf(
      await graphql<{ contacts: ContactView[] }>(
        stack.gatewayUrl,
        `{ contacts(search: "MÜLLER") { ${contactFields} } }`,
        { as: admin },
      ),
    );
    assert.deepEqual(contacts, [
      { name: 'Bäckerei Müller', kind: 'CUSTOMER', iban: null },
      {
        name: 'Müller Treuhand AG',
        kind: 'SUPPLIER',
        iban: { electronic: 'CH9300762011623852957', formatted: 'CH93 0076 2011 6238 5295 7', isQrIban: false },
      },
    ]);

    for (const written of ['CH9300762011623852957', 'CH93 0076 2011 6238 5295 7', 'ch93 0076 2011 6238 5295 7']) {
      assert.equal(dataOf(await byIban(admin, written)).contactByIban?.name, 'Müller Treuhand AG', written);
    }
    assert.deepEqual(dataOf(await byIban(admin, 'DE89 3704 0044 0532 0130 00')), { contactByIban: null });

    // Another workspace knows the IBAN, yet finds nothing.
    const other = await createWorkspace(stack);
    assert.deepEqual(dataOf(await byIban(other, 'CH93 0076 2011 6238 5295 7')), { contactByIban: null });
  });

  it('flag a QR-IBAN, which may only be paid with a QR reference', async () => {
    const admin = await createWorkspace(stack);
    await createContact(stack.gatewayUrl, admin, { name: 'QR Lieferant AG', iban: 'CH44 3199 9123 0008 8901 2' });
    assert.deepEqual(dataOf(await byIban(admin, 'CH4431999123000889012')).contactByIban?.iban, {
      electronic: 'CH4431999123000889012',
      formatted: 'CH44 3199 9123 0008 8901 2',
      isQrIban: true,
    });
  });

  it('refuse an invalid IBAN, naming the field and never echoing it', async () => {
    const admin = await createWorkspace(stack);
    const created = await graphql(
      stack.gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        as: admin,
        variables: {
          input: {
            kind: 'SUPPLIER',
            name: 'Tippfehler AG',
            address: sampleAddress,
            iban: 'CH94 0076 2011 6238 5295 7',
          },
        },
      },
    );
    assert.equal(errorCode(created), 'BAD_USER_INPUT');
    assert.equal(fieldOf(created), 'input.iban');
    assert.doesNotMatch(created.text, /6238/);

    const lookedUp = await byIban(admin, 'CH93 0076 2011 6238 5295');
    assert.equal(errorCode(lookedUp), 'BAD_USER_INPUT');
    assert.equal(fieldOf(lookedUp), 'iban');

    const swissPostcode = await graphql(
      stack.gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        as: admin,
        variables: { input: { kind: 'SUPPLIER', name: 'X', address: { ...sampleAddress, postcode: '80010' } } },
      },
    );
    assert.equal(fieldOf(swissPostcode), 'input.address.postcode');
  });
});

describe('employees', () => {
  it('show an Admin the AHV number masked, in full on request (recorded), never in the list, nothing to a Manager or Viewer', async () => {
    const admin = await createWorkspace(stack);
    const id = await createEmployee(stack.gatewayUrl, admin, { name: 'Anna Muster', ahvNumber: '7569217076985' });

    const masked = dataOf(
      await graphql<{ employee: { name: string; ahvNumber: string; address: { town: string } } }>(
        stack.gatewayUrl,
        'query ($id: ID!) { employee(id: $id) { name ahvNumber address { town } } }',
        { as: admin, variables: { id } },
      ),
    );
    assert.deepEqual(masked.employee, {
      name: 'Anna Muster',
      ahvNumber: '756.****.****.85',
      address: { town: 'Zürich' },
    });
    // A masked read is no access event; the full number is, recorded before it is returned.
    type Reads = { sensitiveReads: { subjectId: string; field: string; actor: { kind: string; id: string } }[] };
    const reads = async () =>
      dataOf(
        await graphql<Reads>(stack.gatewayUrl, '{ sensitiveReads { subjectId field actor { kind id } } }', {
          as: admin,
        }),
      ).sensitiveReads;
    assert.deepEqual(await reads(), []);
    const unmasked = await graphql<{ employee: { ahvNumberUnmasked: string } }>(
      stack.gatewayUrl,
      'query ($id: ID!) { employee(id: $id) { ahvNumberUnmasked } }',
      { as: admin, variables: { id } },
    );
    assert.equal(dataOf(unmasked).employee.ahvNumberUnmasked, '756.9217.0769.85');
    assert.deepEqual(await reads(), [{ subjectId: id, field: 'ahvNumber', actor: { kind: 'USER', id: admin.userId } }]);

    assert.deepEqual(dataOf(await graphql(stack.gatewayUrl, '{ employees { id name } }', { as: admin })), {
      employees: [{ id, name: 'Anna Muster' }],
    });
    const listWithAhv = await graphql(stack.gatewayUrl, '{ employees { id ahvNumber } }', { as: admin });
    assert.equal(errorCode(listWithAhv), 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(listWithAhv.body.data ?? null, null);

    for (const role of ['MANAGER', 'VIEWER']) {
      const member = await addMember(stack, admin, role);
      const asks = [
        ['{ employees { id name } }', {}],
        ['query ($id: ID!) { employee(id: $id) { ahvNumberUnmasked } }', { id }],
        [
          'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
          { input: { name: 'Eingeschleust', address: sampleAddress } },
        ],
      ] as const;
      for (const [query, variables] of asks) {
        const result = await graphql(stack.gatewayUrl, query, { as: member, variables });
        assert.equal(errorCode(result), 'FORBIDDEN', `${role}: ${result.text}`);
        assert.doesNotMatch(result.text, /9217/);
      }
    }
    // The refused creation left nothing behind.
    assert.equal(
      dataOf(await graphql<{ employees: unknown[] }>(stack.gatewayUrl, '{ employees { id } }', { as: admin })).employees
        .length,
      1,
    );
  });

  it('refuse an invalid AHV number, naming the field', async () => {
    const admin = await createWorkspace(stack);
    for (const ahvNumber of ['756.9217.0769.84', '757.9217.0769.85', '756.9217.0769']) {
      const result = await createEmployeeAs(admin, { name: 'Anna Muster', ahvNumber });
      assert.equal(errorCode(result), 'BAD_USER_INPUT', ahvNumber);
      assert.equal(fieldOf(result), 'input.ahvNumber', ahvNumber);
      assert.doesNotMatch(result.text, /9217/);
    }
  });

  it('let a role that may only enter payroll data create an employee without reading the AHV number back', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'MANAGER');
    const { createCustomRole } = dataOf(
      await graphql<{ createCustomRole: { id: string } }>(
        stack.gatewayUrl,
        'mutation { createCustomRole(input: { name: "Lohnerfassung", baseRole: MANAGER, addPermissions: [PAYROLL_WRITE] }) { id } }',
        { as: admin },
      ),
    );
    dataOf(
      await graphql(
        stack.gatewayUrl,
        'mutation ($u: ID!, $r: ID!) { assignCustomRole(userId: $u, customRoleId: $r) }',
        {
          as: admin,
          variables: { u: member.userId, r: createCustomRole.id },
        },
      ),
    );

    const created = await graphql<{
      createEmployee: { id: string; ahvNumber: string | null; ahvNumberUnmasked: string | null };
    }>(
      stack.gatewayUrl,
      'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id ahvNumber ahvNumberUnmasked } }',
      {
        as: member,
        variables: { input: { address: sampleAddress, name: 'Neu Eingestellt', ahvNumber: '756.1234.5678.97' } },
      },
    );
    assert.equal(errorCode(created), 'FORBIDDEN');
    assert.equal(created.body.errors?.[0]?.path?.join('.'), 'createEmployee.ahvNumberUnmasked');
    assert.equal(created.body.data?.createEmployee.ahvNumberUnmasked, null);
    assert.equal(created.body.data?.createEmployee.ahvNumber, '756.****.****.97');
    assert.doesNotMatch(created.text, /5678/);
    const id = created.body.data?.createEmployee.id ?? '';

    const { employee } = dataOf(
      await graphql<{ employee: { ahvNumberUnmasked: string } }>(
        stack.gatewayUrl,
        'query ($id: ID!) { employee(id: $id) { ahvNumberUnmasked } }',
        { as: admin, variables: { id } },
      ),
    );
    assert.equal(employee.ahvNumberUnmasked, '756.1234.5678.97');
  });
});
