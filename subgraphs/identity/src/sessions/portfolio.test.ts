import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { openMigratedTestDatabase, manualClock, maxPortfolioClients, rolePermissions } from '@numezis/runtime';
import type { DataAccess, Role } from '@numezis/runtime';
import { migrationsDir } from '../paths.ts';
import { fiduciaryLinks, memberships, tenants, users } from '../tables.ts';
import { createSession, resolveSession } from './sessions.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise.
const clock = manualClock(Date.parse('2026-03-01T09:00:00Z'));
const policy = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

describe('portfolio sessions', () => {
  let close: () => Promise<void>;
  let dataAccess: DataAccess;

  before(async () => {
    ({ dataAccess, close } = await openMigratedTestDatabase(process.env, 'identity', migrationsDir));
  });
  after(() => close());

  /** A person with a signed-in session that passed no second factor. */
  async function person(): Promise<{ userId: string; token: string }> {
    const userId = randomUUID();
    const token = await dataAccess.unsafeUnscoped(async (tx) => {
      await tx.insert(users).values({ id: userId, displayName: 'Test', email: `${userId}@example.ch` });
      const created = await createSession(tx, {
        userId,
        clock,
        policy,
        ip: '127.0.0.1',
        userAgent: null,
        activeWorkspaceId: null,
      });
      return created.token;
    });
    return { userId, token };
  }

  async function workspace(options: { member?: string; mfaRequired?: boolean; id?: string } = {}): Promise<string> {
    const id = options.id ?? randomUUID();
    await dataAccess.inTenant(id, async (tx) => {
      await tx.insert(tenants).values({
        id,
        name: `Workspace ${id.slice(0, 8)}`,
        plan: 'FREE',
        fiscalYearStartMonth: 1,
        subscriptionStatus: 'ACTIVE',
        mfaRequired: options.mfaRequired ?? false,
      });
      if (options.member !== undefined) {
        await tx.insert(memberships).values({ tenantId: id, userId: options.member, role: 'VIEWER' });
      }
    });
    return id;
  }

  const link = (client: string, firm: string, role: Role, createdBy: string) =>
    dataAccess.inTenant(client, (tx) =>
      tx
        .insert(fiduciaryLinks)
        .values({ tenantId: client, fiduciaryTenantId: firm, role, createdBy, createdAt: new Date(clock.now()) }),
    );

  const resolve = (token: string, target: { workspace?: string; portfolio?: string }) =>
    resolveSession(dataAccess, {
      token,
      requestedWorkspaceId: target.workspace ?? null,
      requestedPortfolioFirmId: target.portfolio ?? null,
      clock,
      policy,
    });

  it("gives a firm's member one client per link of the firm, with the link's role, and no other workspace", async () => {
    const accountant = await person();
    const firm = await workspace({ member: accountant.userId });
    const otherFirm = await workspace({ member: accountant.userId });
    const [a, b, elsewhere] = [await workspace(), await workspace(), await workspace()];
    await workspace(); // linked to no firm at all
    await link(a, firm, 'VIEWER', accountant.userId);
    await link(b, firm, 'OPERATOR', accountant.userId);
    await link(elsewhere, otherFirm, 'MANAGER', accountant.userId);

    const resolved = await resolve(accountant.token, { portfolio: firm });
    assert.equal(resolved?.mfaRequired, false);
    assert.deepEqual(resolved?.access, {
      kind: 'portfolio',
      firmTenantId: firm,
      clients: [
        { tenantId: a, role: 'VIEWER', permissions: rolePermissions.VIEWER },
        { tenantId: b, role: 'OPERATOR', permissions: rolePermissions.OPERATOR },
      ].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
    });
  });

  it('gives no portfolio to someone who is not a member of the firm, not even through a link', async () => {
    const accountant = await person();
    const outsider = await person();
    const firm = await workspace({ member: accountant.userId });
    // The outsider's own firm is linked into `firm`: that lets them work in `firm`, not read its clients.
    const outsidersFirm = await workspace({ member: outsider.userId });
    await link(firm, outsidersFirm, 'ADMIN', accountant.userId);
    await link(await workspace(), firm, 'VIEWER', accountant.userId);

    assert.deepEqual((await resolve(outsider.token, { portfolio: firm }))?.access, { kind: 'account' });
    assert.deepEqual((await resolve(outsider.token, { portfolio: randomUUID() }))?.access, { kind: 'account' });
    assert.equal(await resolve(accountant.token, { portfolio: firm, workspace: firm }), null);
  });

  it('holds the portfolio back while the session owes a second factor the firm or a client demands', async () => {
    const accountant = await person();
    const strictFirm = await workspace({ member: accountant.userId, mfaRequired: true });
    await link(await workspace(), strictFirm, 'VIEWER', accountant.userId);
    const firm = await workspace({ member: accountant.userId });
    await link(await workspace({ mfaRequired: true }), firm, 'VIEWER', accountant.userId);

    for (const portfolio of [strictFirm, firm]) {
      const resolved = await resolve(accountant.token, { portfolio });
      assert.equal(resolved?.mfaRequired, true);
      assert.deepEqual(resolved?.access, { kind: 'portfolio', firmTenantId: portfolio, clients: [] });
    }
  });

  it(`holds at most ${maxPortfolioClients} clients, the first by workspace id`, async () => {
    const accountant = await person();
    const firm = await workspace({ member: accountant.userId });
    const clients: string[] = [];
    for (let index = 0; index <= maxPortfolioClients; index += 1) {
      const client = await workspace();
      await link(client, firm, 'VIEWER', accountant.userId);
      clients.push(client);
    }
    const byId = [...clients].sort();
    const resolved = await resolve(accountant.token, { portfolio: firm });
    assert.equal(resolved?.access.kind, 'portfolio');
    const ids = resolved?.access.kind === 'portfolio' ? resolved.access.clients.map((client) => client.tenantId) : [];
    assert.deepEqual(ids, byId.slice(0, maxPortfolioClients));

    // Unlinking takes effect on the very next resolution.
    const [first] = ids;
    assert.ok(first !== undefined);
    await dataAccess.inTenant(first, (tx) => tx.delete(fiduciaryLinks).where(eq(fiduciaryLinks.tenantId, first)));
    const after = await resolve(accountant.token, { portfolio: firm });
    const afterIds = after?.access.kind === 'portfolio' ? after.access.clients.map((client) => client.tenantId) : [];
    assert.deepEqual(afterIds, byId.slice(1, maxPortfolioClients + 1));
  });
});
