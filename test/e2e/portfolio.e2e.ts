import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { addMember, createApiKey, createWorkspace, postEntryWithReceipt, signUp } from '../src/fixtures.ts';
import type { Person, Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const portfolioHeader = 'x-numezis-portfolio';

interface ClientBooks {
  workspace: { id: string; name: string };
  journalEntryCount: number;
  latestBookingDate: string | null;
}

const booksQuery = '{ portfolioBooks { workspace { id name } journalEntryCount latestBookingDate } }';

/** A request in portfolio mode: the caller's session, reading across `firmId`'s clients. */
const inPortfolio = <Data = Record<string, unknown>>(
  caller: Person,
  firmId: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResult<Data>> =>
  graphql<Data>(stack.gatewayUrl, query, {
    as: { cookie: caller.cookie },
    headers: { [portfolioHeader]: firmId },
    ...(variables === undefined ? {} : { variables }),
  });

const link = (clientAdmin: Caller, firmId: string, role: string) =>
  graphql(stack.gatewayUrl, 'mutation ($f: ID!, $r: Role!) { linkFiduciary(fiduciaryWorkspaceId: $f, role: $r) }', {
    as: clientAdmin,
    variables: { f: firmId, r: role },
  });

/** One more posting, between the accounts postEntryWithReceipt opened. */
async function postAnother(admin: Caller, bookingDate: string): Promise<void> {
  const { accounts } = dataOf(
    await graphql<{ accounts: { id: string }[] }>(stack.gatewayUrl, '{ accounts { id } }', { as: admin }),
  );
  const [debit, credit] = accounts;
  assert.ok(debit !== undefined && credit !== undefined);
  dataOf(
    await graphql(
      stack.gatewayUrl,
      'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
      {
        as: admin,
        variables: {
          input: {
            bookingDate,
            description: 'Rechnung 43',
            amount: '80.00',
            debitAccountId: debit.id,
            creditAccountId: credit.id,
          },
        },
      },
    ),
  );
}

const byName = (books: readonly ClientBooks[]) =>
  [...books].sort((a, b) => a.workspace.name.localeCompare(b.workspace.name));

describe('portfolio mode', () => {
  let firm: Workspace;
  let accountant: Workspace;
  let clientA: Workspace;
  let clientB: Workspace;
  let unlinked: Workspace;

  before(async () => {
    firm = await createWorkspace(stack, 'Treuhand Portfolio AG');
    accountant = await addMember(stack, firm, 'VIEWER');
    clientA = await createWorkspace(stack, 'Kunde A GmbH');
    clientB = await createWorkspace(stack, 'Kunde B AG');
    unlinked = await createWorkspace(stack, 'Kunde C Sàrl');
    for (const workspace of [firm, clientA, clientB, unlinked]) await postEntryWithReceipt(stack.gatewayUrl, workspace);
    await postAnother(clientA, '2026-05-15');
    dataOf(await link(clientA, firm.workspaceId, 'VIEWER'));
    dataOf(await link(clientB, firm.workspaceId, 'OPERATOR'));
  });

  it("gives a firm's member the books of each linked client, and of no other workspace", async () => {
    const { portfolioBooks } = dataOf(
      await inPortfolio<{ portfolioBooks: ClientBooks[] }>(accountant, firm.workspaceId, booksQuery),
    );
    assert.deepEqual(byName(portfolioBooks), [
      {
        workspace: { id: clientA.workspaceId, name: 'Kunde A GmbH' },
        journalEntryCount: 2,
        latestBookingDate: '2026-05-15',
      },
      {
        workspace: { id: clientB.workspaceId, name: 'Kunde B AG' },
        journalEntryCount: 1,
        latestBookingDate: '2026-03-31',
      },
    ]);
    const ids = portfolioBooks.map((books) => books.workspace.id);
    assert.ok(!ids.includes(unlinked.workspaceId) && !ids.includes(firm.workspaceId));
  });

  it('refuses every write, and writes nothing', async () => {
    const write = await inPortfolio(
      accountant,
      firm.workspaceId,
      'mutation { createAccount(input: { number: "1099", name: "Portfolio", type: ASSET }) { id } }',
    );
    assert.equal(errorCode(write), 'FORBIDDEN');
    assert.equal(write.body.errors?.[0]?.extensions?.reason, 'PORTFOLIO_READ_ONLY');
    for (const client of [clientA, clientB]) {
      const { accounts } = dataOf(
        await graphql<{ accounts: { number: string }[] }>(stack.gatewayUrl, '{ accounts { number } }', { as: client }),
      );
      assert.ok(!accounts.some((account) => account.number === '1099'), client.name);
    }
  });

  it('refuses the fields of one workspace: choose a workspace for those', async () => {
    const entries = await inPortfolio<{ journalEntries: unknown }>(
      accountant,
      firm.workspaceId,
      '{ journalEntries { id } }',
    );
    assert.equal(errorCode(entries), 'FORBIDDEN');
    assert.equal(entries.body.errors?.[0]?.extensions?.reason, 'PORTFOLIO_READ_ONLY');
    assert.equal(entries.body.data?.journalEntries ?? null, null);
  });

  it('gives nothing to someone who is not a member of the firm', async () => {
    const stranger = await signUp(stack, 'Stranger');
    // A client's own Admin is no member of the firm either: being linked to a firm is not being in it.
    for (const outsider of [stranger, clientA]) {
      const result = await inPortfolio<{ portfolioBooks: unknown }>(outsider, firm.workspaceId, booksQuery);
      assert.equal(errorCode(result), 'FORBIDDEN', result.text);
      assert.equal(result.body.data?.portfolioBooks ?? null, null);
    }
  });

  it('drops an unlinked client on the very next request', async () => {
    const firmOnly = await createWorkspace(stack, 'Treuhand Wechsel AG');
    const client = await createWorkspace(stack, 'Kunde Wechsel GmbH');
    dataOf(await link(client, firmOnly.workspaceId, 'VIEWER'));
    const before = dataOf(
      await inPortfolio<{ portfolioBooks: ClientBooks[] }>(firmOnly, firmOnly.workspaceId, booksQuery),
    );
    assert.deepEqual(
      before.portfolioBooks.map((books) => books.workspace.id),
      [client.workspaceId],
    );
    dataOf(
      await graphql(stack.gatewayUrl, 'mutation ($f: ID!) { unlinkFiduciary(fiduciaryWorkspaceId: $f) }', {
        as: client,
        variables: { f: firmOnly.workspaceId },
      }),
    );
    const after = dataOf(
      await inPortfolio<{ portfolioBooks: ClientBooks[] }>(firmOnly, firmOnly.workspaceId, booksQuery),
    );
    assert.deepEqual(after.portfolioBooks, []);
  });

  it('refuses an API key, a malformed firm id, and a workspace named alongside', async () => {
    const key = await createApiKey(stack, await createWorkspace(stack));
    const withKey = await graphql(stack.gatewayUrl, booksQuery, {
      headers: { authorization: `Bearer ${key.secret}`, [portfolioHeader]: firm.workspaceId },
    });
    assert.equal(withKey.status, 403);
    assert.equal(errorCode(withKey), 'FORBIDDEN');

    const malformed = await inPortfolio(accountant, "1' or '1'='1", booksQuery);
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed), 'BAD_REQUEST');

    const both = await graphql(stack.gatewayUrl, booksQuery, {
      as: { cookie: accountant.cookie, workspaceId: firm.workspaceId },
      headers: { [portfolioHeader]: firm.workspaceId },
    });
    assert.equal(both.status, 400);
    assert.equal(errorCode(both), 'BAD_REQUEST');
  });
});
