import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rolePermissions, startInProcessSubgraph } from '@numezis/runtime';
import type { GraphQLBody, InProcessSubgraph, PortfolioAccess } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';

const firm = randomUUID();
const clientA = randomUUID();
const clientB = randomUUID();
const unlinked = randomUUID();

const books = '{ portfolioBooks { workspace { id } journalEntryCount latestBookingDate } }';

describe('portfolio books', () => {
  let subgraph: InProcessSubgraph;

  const post = (tenantId: string, query: string, variables: Record<string, unknown> = {}) =>
    subgraph.post(tenantId, query, { variables });

  async function book(tenantId: string, bookingDates: readonly string[]): Promise<void> {
    const account = async (number: string) =>
      (
        (
          await post(
            tenantId,
            `mutation { createAccount(input: { number: "${number}", name: "A", type: ASSET }) { id } }`,
          )
        ).data?.createAccount as { id: string }
      ).id;
    const [debit, credit] = [await account('1000'), await account('1020')];
    for (const bookingDate of bookingDates) {
      const posted = await post(
        tenantId,
        'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
        {
          input: {
            bookingDate,
            description: 'Rechnung',
            amount: '10.00',
            debitAccountId: debit,
            creditAccountId: credit,
          },
        },
      );
      assert.equal(posted.errors, undefined);
    }
  }

  const asPortfolio = (clients: PortfolioAccess['clients'], query = books): Promise<GraphQLBody> =>
    subgraph.post(null, query, {
      actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID() },
      access: { kind: 'portfolio', firmTenantId: firm, clients },
    });
  const link = (tenantId: string, role: 'VIEWER' | 'OPERATOR' = 'VIEWER') => ({
    tenantId,
    role,
    permissions: rolePermissions[role],
  });

  before(async () => {
    subgraph = await startInProcessSubgraph(accountingSubgraph, { env: process.env });
    await book(clientA, ['2026-01-31', '2026-03-31', '2026-02-28']);
    await book(unlinked, ['2026-04-30']);
  });
  after(() => subgraph.close());

  it("counts each linked client's own entries, and nothing of a workspace outside the portfolio", async () => {
    const result = await asPortfolio([link(clientA), link(clientB, 'OPERATOR')]);
    assert.deepEqual(result, {
      data: {
        portfolioBooks: [
          { workspace: { id: clientA }, journalEntryCount: 3, latestBookingDate: '2026-03-31' },
          { workspace: { id: clientB }, journalEntryCount: 0, latestBookingDate: null },
        ],
      },
    });
  });

  it('skips a client whose link does not grant reading the books', async () => {
    const result = await asPortfolio([link(clientA), { tenantId: clientB, role: 'VIEWER', permissions: [] }]);
    assert.deepEqual(
      (result.data?.portfolioBooks as { workspace: { id: string } }[]).map((entry) => entry.workspace.id),
      [clientA],
    );
  });

  it('refuses writes and single-workspace reads in portfolio mode, and portfolio reads outside it', async () => {
    const write = await asPortfolio(
      [link(clientA, 'OPERATOR')],
      'mutation { createAccount(input: { number: "1100", name: "B", type: ASSET }) { id } }',
    );
    assert.equal(write.errors?.[0]?.extensions?.reason, 'PORTFOLIO_READ_ONLY');
    const single = await asPortfolio([link(clientA)], '{ journalEntries { id } }');
    assert.equal(single.errors?.[0]?.extensions?.reason, 'PORTFOLIO_READ_ONLY');
    const inTenant = await post(clientA, books);
    assert.equal(inTenant.errors?.[0]?.extensions?.reason, 'PORTFOLIO_ONLY');
  });
});
