import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { effectivePermissions, startInProcessSubgraph } from '@numezis/runtime';
import type { AuditEvent, GraphQLBody, InProcessSubgraph } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';

type PostOptions = NonNullable<Parameters<InProcessSubgraph['post']>[2]>;

const createAccount = 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id number name type } }';
const postEntry = 'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id amount } }';
const createContact = 'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }';
const updateContact =
  'mutation ($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id iban { electronic } } }';
const createEmployee = 'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }';
const updateEmployee =
  'mutation ($id: ID!, $input: UpdateEmployeeInput!) { updateEmployee(id: $id, input: $input) { id name } }';

// Personal data that must never reach the trail in the clear, in every spelling the tests use. Short
// values are looked for as JSON strings, since ids and times in the events may contain their digits.
const street = 'Geheimweg';
const address = { street, buildingNumber: '17b', postcode: '8045', town: 'Zürich', country: 'CH' };
const movedTo = { street: 'Versteckgasse', buildingNumber: '3', postcode: '3011', town: 'Bern', country: 'CH' };
const firstIban = 'CH9300762011623852957';
const secondIban = 'CH5604835012345678009';
const email = 'anna.buchhaltung@muster.ch';
const ahv = '7569217076985';
const secondAhv = '7561234567897';
const plaintexts = [
  street,
  movedTo.street,
  '"17b"',
  '"3"',
  '"8045"',
  '"3011"',
  'Zürich',
  'Bern',
  firstIban,
  'CH93 0076',
  '0076 2011',
  secondIban,
  'CH56 0483',
  email,
  'anna.buchhaltung',
  ahv,
  '756.9217.0769.85',
  '92170769',
  '756.9217',
  secondAhv,
  '756.1234.5678.97',
  '1234.5678',
];

const maskedAddress = {
  street: '[redacted]',
  buildingNumber: '[redacted]',
  postcode: '[redacted]',
  town: '[redacted]',
};

describe('audit events of the accounting mutations', () => {
  let subgraph: InProcessSubgraph;

  before(async () => {
    subgraph = await startInProcessSubgraph(accountingSubgraph, { env: process.env });
  });
  after(() => subgraph.close());

  const eventsOf = async (tenantId: string) =>
    (await subgraph.auditOutbox()).filter((event) => event.tenantId === tenantId);

  /** Runs one mutation and returns its answer and the one event it left in `tenantId`'s trail. */
  async function audited(
    tenantId: string,
    query: string,
    variables: Record<string, unknown>,
    options: PostOptions = {},
  ): Promise<{ result: GraphQLBody; event: AuditEvent }> {
    const earlier = (await eventsOf(tenantId)).length;
    const result = await subgraph.post(tenantId, query, { ...options, variables });
    const events = await eventsOf(tenantId);
    assert.equal(
      events.length,
      earlier + 1,
      `exactly one event for ${query}: ${JSON.stringify(events.slice(earlier))}`,
    );
    const event = events.at(-1);
    assert.ok(event !== undefined);
    return { result, event };
  }

  const summary = (event: AuditEvent) => ({
    action: event.action,
    retention: event.retention,
    outcome: event.outcome,
    reason: event.reason,
    targets: event.targets,
    before: event.before,
    after: event.after,
  });

  const idOf = (result: GraphQLBody, field: string): string => {
    const value = result.data?.[field] as { id?: unknown } | null | undefined;
    assert.equal(typeof value?.id, 'string', JSON.stringify(result));
    return String(value?.id);
  };

  it('records accounts and journal entries, refusals included', async () => {
    const tenant = randomUUID();
    const bank = await audited(tenant, createAccount, { input: { number: '1020', name: 'Bank', type: 'ASSET' } });
    const bankId = idOf(bank.result, 'createAccount');
    assert.equal(bank.event.source, 'accounting');
    assert.deepEqual(summary(bank.event), {
      action: 'ledger.account_created',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'Account', id: bankId }],
      before: null,
      after: { number: '1020', name: 'Bank', type: 'ASSET' },
    });
    const revenue = await audited(tenant, createAccount, {
      input: { number: '3200', name: 'Erlöse', type: 'REVENUE' },
    });
    const revenueId = idOf(revenue.result, 'createAccount');

    const duplicate = await audited(tenant, createAccount, { input: { number: '1020', name: 'Bank', type: 'ASSET' } });
    assert.deepEqual(summary(duplicate.event), {
      action: 'ledger.account_created',
      retention: 'accounting',
      outcome: 'failed',
      reason: 'BAD_USER_INPUT',
      targets: [],
      before: null,
      after: null,
    });
    const viewer = await audited(
      tenant,
      createAccount,
      { input: { number: '1021', name: 'Bank 2', type: 'ASSET' } },
      { role: 'VIEWER' },
    );
    assert.equal(viewer.result.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.deepEqual([viewer.event.outcome, viewer.event.action], ['denied', 'ledger.account_created']);
    assert.match(viewer.event.reason ?? '', /^FORBIDDEN/);

    const input = {
      bookingDate: '2026-03-31',
      description: 'Rechnung 42',
      amount: '1250.5',
      currency: 'CHF',
      debitAccountId: bankId,
      creditAccountId: revenueId,
    };
    const posted = await audited(tenant, postEntry, { input });
    const entryId = idOf(posted.result, 'postJournalEntry');
    assert.deepEqual(summary(posted.event), {
      action: 'ledger.entry_posted',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'JournalEntry', id: entryId }],
      before: null,
      after: { ...input, amount: '1250.50' },
    });

    const unknownAccount = await audited(tenant, postEntry, { input: { ...input, creditAccountId: randomUUID() } });
    assert.deepEqual([unknownAccount.event.outcome, unknownAccount.event.reason], ['failed', 'NOT_FOUND']);
    const badAmount = await audited(tenant, postEntry, { input: { ...input, amount: '-1' } });
    assert.deepEqual([badAmount.event.outcome, badAmount.event.reason], ['failed', 'BAD_USER_INPUT']);
    const denied = await audited(tenant, postEntry, { input }, { role: 'VIEWER' });
    assert.equal(denied.event.outcome, 'denied');
    // Refused attempts changed nothing: one entry in the books.
    assert.equal(((await subgraph.post(tenant, '{ journalEntries { id } }')).data?.journalEntries as []).length, 1);
  });

  it('records contacts masked, an IBAN change visible as two different masks', async () => {
    const tenant = randomUUID();
    const created = await audited(tenant, createContact, {
      input: { kind: 'SUPPLIER', name: 'Muster AG', address, email, iban: 'ch93 0076 2011 6238 5295 7' },
    });
    const id = idOf(created.result, 'createContact');
    const image = {
      kind: 'SUPPLIER',
      name: 'Muster AG',
      address: { ...maskedAddress, country: 'CH' },
      email: 'a***@muster.ch',
      iban: '****2957',
    };
    assert.deepEqual(summary(created.event), {
      action: 'contact.created',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'Contact', id }],
      before: null,
      after: image,
    });

    const changed = await audited(tenant, updateContact, { id, input: { iban: secondIban, name: 'Muster GmbH' } });
    assert.deepEqual(changed.result.data?.updateContact, { id, iban: { electronic: secondIban } });
    assert.deepEqual(summary(changed.event), {
      action: 'contact.updated',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'Contact', id }],
      before: image,
      after: { ...image, name: 'Muster GmbH', iban: '****8009' },
    });
    assert.notEqual(changed.event.before?.iban, changed.event.after?.iban);

    const removed = await audited(tenant, updateContact, {
      id,
      input: { iban: null, email: null, address: { ...movedTo, country: 'LI' } },
    });
    assert.deepEqual(
      [removed.event.before, removed.event.after],
      [
        { ...image, name: 'Muster GmbH', iban: '****8009' },
        {
          ...image,
          name: 'Muster GmbH',
          address: { ...maskedAddress, country: 'LI' },
          email: null,
          iban: null,
        },
      ],
    );

    // An IBAN another contact has: refused, and the refusal records nothing of the IBAN either.
    const other = await audited(tenant, createContact, {
      input: { kind: 'CUSTOMER', name: 'Kunde AG', address, iban: firstIban },
    });
    const clash = await audited(tenant, updateContact, {
      id: idOf(other.result, 'createContact'),
      input: { iban: firstIban },
    });
    assert.equal(clash.result.errors, undefined, 'its own IBAN again is no clash');
    const taken = await audited(tenant, createContact, {
      input: { kind: 'CUSTOMER', name: 'Dritte AG', address, iban: firstIban },
    });
    assert.deepEqual(
      [taken.event.action, taken.event.outcome, taken.event.reason, taken.event.after],
      ['contact.created', 'failed', 'BAD_USER_INPUT', null],
    );

    const missing = await audited(tenant, updateContact, { id: randomUUID(), input: { name: 'X' } });
    assert.deepEqual([missing.event.outcome, missing.event.reason], ['failed', 'NOT_FOUND']);
    const badEmail = await audited(tenant, updateContact, { id, input: { email: 'nicht-gültig' } });
    assert.deepEqual([badEmail.event.outcome, badEmail.event.reason], ['failed', 'BAD_USER_INPUT']);
    const viewer = await audited(tenant, updateContact, { id, input: { iban: firstIban } }, { role: 'VIEWER' });
    assert.deepEqual([viewer.event.action, viewer.event.outcome], ['contact.updated', 'denied']);

    const serialised = JSON.stringify(await eventsOf(tenant));
    for (const plaintext of plaintexts) assert.ok(!serialised.includes(plaintext), `${plaintext} in the trail`);
  });

  it('records employees with the AHV number masked and nothing of the address', async () => {
    const tenant = randomUUID();
    const created = await audited(tenant, createEmployee, {
      input: { name: 'Anna Muster', address, ahvNumber: '756.9217.0769.85' },
    });
    const id = idOf(created.result, 'createEmployee');
    const image = { name: 'Anna Muster', address: { ...maskedAddress, country: 'CH' }, ahvNumber: '756.****.****.85' };
    assert.deepEqual(summary(created.event), {
      action: 'employee.created',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'Employee', id }],
      before: null,
      after: image,
    });

    // A custom role that may enter payroll data but not read it back: its change is recorded all the same.
    const writer: PostOptions = {
      access: {
        kind: 'tenant',
        tenantId: tenant,
        role: 'VIEWER',
        permissions: effectivePermissions('VIEWER', ['payroll.write']),
      },
    };
    const changed = await audited(
      tenant,
      updateEmployee,
      { id, input: { name: 'Anna Beispiel', ahvNumber: secondAhv, address: movedTo } },
      writer,
    );
    assert.deepEqual(changed.result.data?.updateEmployee, { id, name: 'Anna Beispiel' });
    assert.deepEqual(summary(changed.event), {
      action: 'employee.updated',
      retention: 'accounting',
      outcome: 'success',
      reason: null,
      targets: [{ type: 'Employee', id }],
      before: image,
      after: { ...image, name: 'Anna Beispiel', ahvNumber: '756.****.****.97' },
    });

    const cleared = await audited(tenant, updateEmployee, { id, input: { ahvNumber: null } });
    assert.deepEqual([cleared.event.before?.ahvNumber, cleared.event.after?.ahvNumber], ['756.****.****.97', null]);

    const badAhv = await audited(tenant, updateEmployee, { id, input: { ahvNumber: '756.9217.0769.84' } });
    assert.deepEqual([badAhv.event.outcome, badAhv.event.reason], ['failed', 'BAD_USER_INPUT']);
    const notFound = await audited(tenant, updateEmployee, { id: 'not-an-id', input: {} });
    assert.deepEqual([notFound.event.outcome, notFound.event.reason], ['failed', 'NOT_FOUND']);
    // Bookkeeping rights are no payroll rights.
    const bookkeeper = await audited(
      tenant,
      createEmployee,
      { input: { name: 'Zweite Person', address, ahvNumber: ahv } },
      { role: 'VIEWER' },
    );
    assert.deepEqual([bookkeeper.event.action, bookkeeper.event.outcome], ['employee.created', 'denied']);

    const serialised = JSON.stringify(await eventsOf(tenant));
    for (const plaintext of plaintexts) assert.ok(!serialised.includes(plaintext), `${plaintext} in the trail`);
  });

  it('records nothing twice when updates of one contact race', async () => {
    const tenant = randomUUID();
    const created = await audited(tenant, createContact, {
      input: { kind: 'CUSTOMER', name: 'Wettlauf AG', address, iban: firstIban },
    });
    const id = idOf(created.result, 'createContact');
    const names = ['Eins AG', 'Zwei AG', 'Drei AG', 'Vier AG'];
    const results = await Promise.all(
      names.map((name) => subgraph.post(tenant, updateContact, { variables: { id, input: { name } } })),
    );
    for (const result of results) assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const updates = (await eventsOf(tenant)).filter((event) => event.action === 'contact.updated');
    assert.equal(updates.length, names.length);
    // Each update saw the state the one before it left: the names chain from the created one to the
    // last written, no two starting from the same state.
    const froms = updates.map((event) => event.before?.name);
    const tos = updates.map((event) => event.after?.name);
    const current = (
      await subgraph.post(tenant, 'query ($id: ID!) { contact(id: $id) { name } }', { variables: { id } })
    ).data?.contact as { name: string };
    assert.deepEqual([...tos].sort(), [...names].sort());
    assert.deepEqual([...froms].sort(), ['Wettlauf AG', ...tos.filter((name) => name !== current.name)].sort());
  });
});
