import { readFile, writeFile } from 'node:fs/promises';

export interface DevSeed {
  readonly workspaceId: string;
  readonly userId: string;
}

interface GraphQLResponse<Data> {
  data?: Data;
  errors?: { message: string }[];
}

/**
 * Demo data for `npm start`, created through the gateway like any client would: a workspace with
 * its Admin, two accounts, a posting and its receipt. Reused across starts while the workspace
 * still exists in the embedded database.
 */
export async function ensureDevSeed(gatewayUrl: string, seedFile: string): Promise<DevSeed> {
  const existing = await readFile(seedFile, 'utf8')
    .then((text) => JSON.parse(text) as DevSeed)
    .catch(() => undefined);
  if (existing !== undefined) {
    const found = await call<{ workspace: { id: string } | null }>(gatewayUrl, existing, '{ workspace { id } }').catch(
      () => undefined,
    );
    if (found?.workspace?.id === existing.workspaceId) return existing;
  }

  const created = await call<{ createWorkspace: { workspace: { id: string }; owner: { id: string } } }>(
    gatewayUrl,
    undefined,
    'mutation { createWorkspace(input: { name: "Muster Treuhand AG", ownerDisplayName: "Anna Muster" }) { workspace { id } owner { id } } }',
  );
  const seed: DevSeed = { workspaceId: created.createWorkspace.workspace.id, userId: created.createWorkspace.owner.id };
  const account = async (number: string, name: string, type: string) =>
    (
      await call<{ createAccount: { id: string } }>(
        gatewayUrl,
        seed,
        `mutation { createAccount(input: { number: "${number}", name: "${name}", type: ${type} }) { id } }`,
      )
    ).createAccount.id;
  const bank = await account('1020', 'Bank', 'ASSET');
  const revenue = await account('3200', 'Handelserlöse', 'REVENUE');
  const entry = await call<{ postJournalEntry: { id: string } }>(
    gatewayUrl,
    seed,
    `mutation { postJournalEntry(input: { bookingDate: "2026-01-15", description: "Rechnung 2026-001", amount: "1250.50", debitAccountId: "${bank}", creditAccountId: "${revenue}" }) { id } }`,
  );
  await call(
    gatewayUrl,
    seed,
    `mutation { registerDocument(input: { fileName: "rechnung-2026-001.pdf", contentType: "application/pdf", journalEntryId: "${entry.postJournalEntry.id}" }) { id } }`,
  );
  await writeFile(seedFile, JSON.stringify(seed, null, 2));
  return seed;
}

async function call<Data>(gatewayUrl: string, seed: DevSeed | undefined, query: string): Promise<Data> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (seed !== undefined) {
    headers['x-numezis-dev-workspace'] = seed.workspaceId;
    headers['x-numezis-dev-user'] = seed.userId;
  }
  const response = await fetch(gatewayUrl, { method: 'POST', headers, body: JSON.stringify({ query }) });
  const body = (await response.json()) as GraphQLResponse<Data>;
  if (body.errors !== undefined || body.data === undefined) {
    throw new Error(`seeding failed: ${body.errors?.map((error) => error.message).join('; ') ?? response.status}`);
  }
  return body.data;
}

export const sampleQuery =
  '{ workspace { name members { displayName } auditLog { eventCount } } ' +
  'journalEntries { bookingDate description amount currency debitAccount { number name } ' +
  'creditAccount { number name } author { displayName } documents { fileName } } }';
