import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller } from '../src/client.ts';
import { addMember, createWorkspace, postEntryWithReceipt } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();

const link = (clientAdmin: Caller, firmId: string, role: string) =>
  graphql(stack.gatewayUrl, 'mutation ($f: ID!, $r: Role!) { linkFiduciary(fiduciaryWorkspaceId: $f, role: $r) }', {
    as: clientAdmin,
    variables: { f: firmId, r: role },
  });

const entriesIn = async (caller: Caller, workspaceId: string) =>
  graphql<{ journalEntries: { id: string }[] | null }>(stack.gatewayUrl, '{ journalEntries { id } }', {
    as: { ...caller, workspaceId },
  });

describe('fiduciary firms', () => {
  it("let the firm's staff work in a linked client workspace with the link's role, until unlinked", async () => {
    const firm = await createWorkspace(stack, 'Treuhand Muster AG');
    const accountant = await addMember(stack, firm, 'OPERATOR');
    const client = await createWorkspace(stack, 'Bäckerei Beispiel GmbH');
    const { entryId } = await postEntryWithReceipt(stack.gatewayUrl, client);

    assert.equal(errorCode(await entriesIn(accountant, client.workspaceId)), 'UNAUTHENTICATED');
    dataOf(await link(client, firm.workspaceId, 'VIEWER'));

    assert.deepEqual(dataOf(await entriesIn(accountant, client.workspaceId)).journalEntries, [{ id: entryId }]);
    const write = await graphql(
      stack.gatewayUrl,
      'mutation { createAccount(input: { number: "1000", name: "Kasse", type: ASSET }) { id } }',
      {
        as: { ...accountant, workspaceId: client.workspaceId },
      },
    );
    assert.equal(errorCode(write), 'FORBIDDEN');
    const { me } = dataOf(
      await graphql<{ me: { workspaces: { workspace: { name: string }; role: string }[] } }>(
        stack.gatewayUrl,
        '{ me { workspaces { workspace { name } role } } }',
        { as: accountant },
      ),
    );
    assert.deepEqual(me.workspaces.map((entry) => [entry.workspace.name, entry.role]).sort(), [
      ['Bäckerei Beispiel GmbH', 'VIEWER'],
      ['Treuhand Muster AG', 'OPERATOR'],
    ]);

    dataOf(
      await graphql(stack.gatewayUrl, 'mutation ($f: ID!) { unlinkFiduciary(fiduciaryWorkspaceId: $f) }', {
        as: client,
        variables: { f: firm.workspaceId },
      }),
    );
    assert.equal(errorCode(await entriesIn(accountant, client.workspaceId)), 'UNAUTHENTICATED');
  });

  it('reach only the client workspaces linked to their firm', async () => {
    const firm = await createWorkspace(stack);
    const client = await createWorkspace(stack);
    const other = await createWorkspace(stack);
    await postEntryWithReceipt(stack.gatewayUrl, other);
    dataOf(await link(client, firm.workspaceId, 'MANAGER'));
    const denied = await entriesIn(firm, other.workspaceId);
    assert.equal(denied.body.data?.journalEntries, null);
  });

  it('refuse a link to a workspace that does not exist, or with a role above the linker', async () => {
    const client = await createWorkspace(stack);
    assert.equal(errorCode(await link(client, '00000000-0000-4000-8000-000000000000', 'VIEWER')), 'NOT_FOUND');
    const manager = await addMember(stack, client, 'MANAGER');
    const firm = await createWorkspace(stack);
    assert.equal(errorCode(await link(manager, firm.workspaceId, 'VIEWER')), 'FORBIDDEN');
  });
});
