import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { effectivePermissions, startInProcessSubgraph } from '@numezis/runtime';
import type { GraphQLBody, InProcessSubgraph, Permission } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';

const address = { street: 'Bahnhofstrasse', buildingNumber: '1', postcode: '8001', town: 'Zürich', country: 'CH' };
const createContact =
  'mutation ($input: CreateContactInput!) { createContact(input: $input) { id name email iban { electronic } } }';
const createEmployee = 'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }';

type PostOptions = NonNullable<Parameters<InProcessSubgraph['post']>[2]>;

const fieldOf = (result: GraphQLBody) => result.errors?.[0]?.extensions?.field;
const codeOf = (result: GraphQLBody) => result.errors?.[0]?.extensions?.code;

describe('contacts and employees in the accounting subgraph', () => {
  let subgraph: InProcessSubgraph;
  const post = (tenantId: string, query: string, variables: Record<string, unknown> = {}, options: PostOptions = {}) =>
    subgraph.post(tenantId, query, { ...options, variables });
  const asCustomRole = (tenantId: string, permissions: Permission[]): PostOptions => ({
    access: { kind: 'tenant', tenantId, role: 'VIEWER', permissions },
  });

  async function contact(tenantId: string, input: Record<string, unknown>): Promise<string> {
    const result = await post(tenantId, createContact, { input: { kind: 'SUPPLIER', address, ...input } });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    return (result.data?.createContact as { id: string }).id;
  }

  before(async () => {
    subgraph = await startInProcessSubgraph(accountingSubgraph, { env: process.env });
  });
  after(() => subgraph.close());

  it('searches names case-insensitively, with % and _ matching only themselves', async () => {
    const tenant = randomUUID();
    for (const name of ['Müller AG', 'Bäckerei Müller', '100% Bio GmbH', 'Bio_Laden', 'BioXLaden', 'Schmid & Co'])
      await contact(tenant, { name });
    const search = async (term: string | null) =>
      (
        (await post(tenant, 'query ($s: String) { contacts(search: $s) { name } }', { s: term })).data?.contacts as {
          name: string;
        }[]
      ).map((row) => row.name);
    assert.deepEqual(await search('müller'), ['Bäckerei Müller', 'Müller AG']);
    assert.deepEqual(await search('%'), ['100% Bio GmbH']);
    assert.deepEqual(await search('o_l'), ['Bio_Laden']);
    assert.deepEqual(await search('\\'), []);
    assert.deepEqual((await search(null)).length, 6);
    assert.deepEqual((await search('  ')).length, 6);
    assert.equal(fieldOf(await post(tenant, `{ contacts(search: "${'a'.repeat(71)}") { id } }`)), 'search');
    // Another workspace sees none of them.
    assert.deepEqual((await post(randomUUID(), '{ contacts { id } }')).data, { contacts: [] });
  });

  it('keeps one contact per IBAN in a workspace, however it is written, and none across workspaces', async () => {
    const tenant = randomUUID();
    await contact(tenant, { name: 'Erste AG', iban: 'CH93 0076 2011 6238 5295 7' });
    const twice = await post(tenant, createContact, {
      input: { kind: 'CUSTOMER', name: 'Zweite AG', address, iban: 'ch9300762011623852957' },
    });
    assert.equal(codeOf(twice), 'BAD_USER_INPUT');
    assert.equal(fieldOf(twice), 'input.iban');
    assert.doesNotMatch(JSON.stringify(twice), /0076/);

    const other = await contact(tenant, { name: 'Dritte AG' });
    const update = await post(
      tenant,
      'mutation ($id: ID!) { updateContact(id: $id, input: { iban: "CH9300762011623852957" }) { id } }',
      { id: other },
    );
    assert.equal(fieldOf(update), 'input.iban');

    await contact(randomUUID(), { name: 'Erste AG', iban: 'CH9300762011623852957' });
    const found = await post(tenant, '{ contactByIban(iban: "ch93 0076 2011 6238 5295 7") { name } }');
    assert.deepEqual(found.data, { contactByIban: { name: 'Erste AG' } });
  });

  it('updates only the fields given, and removes an email or IBAN on null', async () => {
    const tenant = randomUUID();
    const id = await contact(tenant, { name: 'Muster AG', email: 'info@muster.ch', iban: 'CH9300762011623852957' });
    const update = (input: Record<string, unknown>) =>
      post(
        tenant,
        'mutation ($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { kind name email iban { formatted } address { town } } }',
        { id, input },
      );
    assert.deepEqual((await update({ name: 'Muster GmbH' })).data?.updateContact, {
      kind: 'SUPPLIER',
      name: 'Muster GmbH',
      email: 'info@muster.ch',
      iban: { formatted: 'CH93 0076 2011 6238 5295 7' },
      address: { town: 'Zürich' },
    });
    assert.deepEqual((await update({ email: null, iban: null, kind: 'CUSTOMER' })).data?.updateContact, {
      kind: 'CUSTOMER',
      name: 'Muster GmbH',
      email: null,
      iban: null,
      address: { town: 'Zürich' },
    });
    assert.equal(fieldOf(await update({ name: null })), 'input.name');
    assert.equal(fieldOf(await update({ address: { ...address, postcode: '800' } })), 'input.address.postcode');
    for (const missing of [randomUUID(), 'not-a-uuid']) {
      const result = await post(tenant, 'mutation ($id: ID!) { updateContact(id: $id, input: {}) { id } }', {
        id: missing,
      });
      assert.equal(codeOf(result), 'NOT_FOUND');
    }
    const foreign = await post(randomUUID(), 'mutation ($id: ID!) { updateContact(id: $id, input: {}) { id } }', {
      id,
    });
    assert.equal(codeOf(foreign), 'NOT_FOUND');
  });

  it('shows the AHV number masked, in full only to payroll.read, records every full read, and never lists it', async () => {
    const tenant = randomUUID();
    const created = await post(tenant, createEmployee, {
      input: { name: 'Anna Muster', address, ahvNumber: '7569217076985' },
    });
    const id = (created.data?.createEmployee as { id: string }).id;
    const detail = 'query ($id: ID!) { employee(id: $id) { name ahvNumber address { postcode } } }';
    assert.deepEqual((await post(tenant, detail, { id })).data, {
      employee: { name: 'Anna Muster', ahvNumber: '756.****.****.85', address: { postcode: '8001' } },
    });
    const reads = '{ sensitiveReads { actor { kind id } subjectType subjectId field requestId clientIp userAgent } }';
    assert.deepEqual((await post(tenant, reads)).data, { sensitiveReads: [] }, 'the masked number is no full read');

    const payroll = { kind: 'user', userId: randomUUID(), sessionId: randomUUID() } as const;
    const full = await post(
      tenant,
      'query ($id: ID!) { employee(id: $id) { ahvNumberUnmasked } }',
      { id },
      {
        actor: payroll,
      },
    );
    assert.deepEqual(full.data, { employee: { ahvNumberUnmasked: '756.9217.0769.85' } });
    const [read, ...more] = (await post(tenant, reads)).data?.sensitiveReads as Record<string, unknown>[];
    assert.equal(more.length, 0);
    assert.match(String(read?.requestId), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...read, requestId: undefined },
      {
        actor: { kind: 'USER', id: payroll.userId },
        subjectType: 'Employee',
        subjectId: id,
        field: 'ahvNumber',
        requestId: undefined,
        clientIp: '127.0.0.1',
        userAgent: 'unit-test',
      },
    );

    // A custom role that may enter payroll data but not read it back sees it masked only.
    const writer = asCustomRole(tenant, effectivePermissions('VIEWER', ['payroll.write']));
    const written = await post(
      tenant,
      'mutation ($id: ID!) { updateEmployee(id: $id, input: { name: "Anna Beispiel" }) { name ahvNumber ahvNumberUnmasked } }',
      { id },
      writer,
    );
    assert.deepEqual(written.data, {
      updateEmployee: { name: 'Anna Beispiel', ahvNumber: '756.****.****.85', ahvNumberUnmasked: null },
    });
    assert.equal(codeOf(written), 'FORBIDDEN');
    assert.equal(((await post(tenant, reads)).data?.sensitiveReads as unknown[]).length, 1, 'a refused read is none');
    // The record is audit data: payroll.read alone does not list it.
    const payrollClerk = asCustomRole(tenant, effectivePermissions('VIEWER', ['payroll.read']));
    assert.equal(codeOf(await post(tenant, reads, {}, payrollClerk)), 'FORBIDDEN');

    const list = await post(tenant, '{ employees { id name ahvNumber } }');
    assert.equal(codeOf(list), 'GRAPHQL_VALIDATION_FAILED');
    assert.deepEqual((await post(tenant, '{ employees { id name } }')).data, {
      employees: [{ id, name: 'Anna Beispiel' }],
    });

    // Reading the books opens no payroll data, not even through the loader.
    const bookkeeper = asCustomRole(tenant, effectivePermissions('VIEWER'));
    const refused = await post(tenant, detail, { id }, bookkeeper);
    assert.equal(codeOf(refused), 'FORBIDDEN');
    assert.equal(refused.data?.employee ?? null, null);
  });

  it('accepts an employee without an AHV number yet, and removes one on null', async () => {
    const tenant = randomUUID();
    const created = await post(tenant, createEmployee, { input: { name: 'Neu Angestellt', address } });
    const id = (created.data?.createEmployee as { id: string }).id;
    const update = (ahvNumber: string | null) =>
      post(
        tenant,
        'mutation ($id: ID!, $ahv: String) { updateEmployee(id: $id, input: { ahvNumber: $ahv }) { ahvNumber: ahvNumberUnmasked } }',
        { id, ahv: ahvNumber },
      );
    assert.deepEqual((await update('756.1234.5678.97')).data, { updateEmployee: { ahvNumber: '756.1234.5678.97' } });
    const bad = await update('756.1234.5678.98');
    assert.equal(fieldOf(bad), 'input.ahvNumber');
    assert.doesNotMatch(JSON.stringify(bad), /5678/);
    assert.deepEqual((await update(null)).data, { updateEmployee: { ahvNumber: null } });
  });
});
