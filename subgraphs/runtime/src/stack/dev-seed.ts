import { readFile, writeFile } from 'node:fs/promises';
import { persistedQueryManifestFile } from '@numezis/schema';
import type { PersistedQueryManifest } from '@numezis/schema';
import { systemClock } from '../clock.ts';
import { base32Decode, currentStep, totpCode } from '../mfa/totp.ts';
import { minimalPdf } from './minimal-pdf.ts';
import { codeIn, mailsTo } from './outbox-reader.ts';

export interface DevSeed {
  readonly email: string;
  readonly password: string;
  readonly workspaceId: string;
  /** Base32 TOTP secret of the demo Admin, for an authenticator app. */
  readonly totpSecret: string;
  /** A development API key (role MANAGER) for the demo workspace. */
  readonly apiKey: string;
}

interface GraphQLResponse<Data> {
  data?: Data;
  errors?: { message: string }[];
}

const demo = { email: 'anna@muster-treuhand.ch', password: 'demo-password-2026', displayName: 'Anna Muster' };

/**
 * Demo data for `npm start`, created through the gateway as any client would: a person who signs
 * up and confirms the mail, enrols TOTP, creates a workspace with two accounts, a posting and its
 * receipt, and a development API key. Reused while the key still works in the embedded databases.
 */
export async function ensureDevSeed(gatewayUrl: string, outboxDir: string, seedFile: string): Promise<DevSeed> {
  const existing = await readFile(seedFile, 'utf8')
    .then((text) => JSON.parse(text) as DevSeed)
    .catch(() => undefined);
  if (existing?.apiKey !== undefined) {
    const works = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${existing.apiKey}` },
      body: JSON.stringify(await overviewRequest()),
    })
      .then(unwrap)
      .then(
        () => true,
        () => false,
      );
    if (works) return existing;
  }

  await call(gatewayUrl, undefined, 'mutation ($input: SignUpInput!) { signUp(input: $input) }', { input: demo });
  const token = codeIn((await mailsTo(outboxDir, demo.email)).at(-1));
  await call(gatewayUrl, undefined, 'mutation ($token: String!) { verifyEmail(token: $token) }', { token });
  let cookie = await signIn(gatewayUrl, demo);
  const { beginTotpEnrolment } = await call<{ beginTotpEnrolment: { secret: string } }>(
    gatewayUrl,
    cookie,
    'mutation { beginTotpEnrolment { secret } }',
  );
  const confirmed = await post(gatewayUrl, cookie, 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', {
    code: totpCode(base32Decode(beginTotpEnrolment.secret), currentStep(systemClock)),
  });
  await unwrap(confirmed);
  cookie = confirmed.headers.get('set-cookie')?.split(';')[0] ?? cookie;
  const { createWorkspace } = await call<{ createWorkspace: { id: string } }>(
    gatewayUrl,
    cookie,
    'mutation { createWorkspace(input: { name: "Muster Treuhand AG" }) { id } }',
  );
  const account = async (number: string, name: string, type: string) =>
    (
      await call<{ createAccount: { id: string } }>(
        gatewayUrl,
        cookie,
        `mutation { createAccount(input: { number: "${number}", name: "${name}", type: ${type} }) { id } }`,
      )
    ).createAccount.id;
  const bank = await account('1020', 'Bank', 'ASSET');
  const revenue = await account('3200', 'Handelserlöse', 'REVENUE');
  const entry = await call<{ postJournalEntry: { id: string } }>(
    gatewayUrl,
    cookie,
    `mutation { postJournalEntry(input: { bookingDate: "2026-01-15", description: "Rechnung 2026-001", amount: "1250.50", debitAccountId: "${bank}", creditAccountId: "${revenue}" }) { id } }`,
  );
  const { createDocumentUpload } = await call<{ createDocumentUpload: { uploadUrl: string } }>(
    gatewayUrl,
    cookie,
    `mutation { createDocumentUpload(input: { fileName: "rechnung-2026-001.pdf", journalEntryId: "${entry.postJournalEntry.id}" }) { uploadUrl } }`,
  );
  const uploaded = await fetch(new URL(createDocumentUpload.uploadUrl, gatewayUrl), {
    method: 'PUT',
    headers: { cookie, 'content-type': 'application/pdf' },
    body: minimalPdf('Rechnung 2026-001: CHF 1250.50'),
  });
  if (uploaded.status !== 201) throw new Error(`seeding failed: the receipt upload answered ${uploaded.status}`);
  const { createApiKey } = await call<{ createApiKey: { secret: string } }>(
    gatewayUrl,
    cookie,
    'mutation { createApiKey(input: { name: "Development", role: MANAGER }) { secret } }',
  );
  const seed: DevSeed = {
    email: demo.email,
    password: demo.password,
    workspaceId: createWorkspace.id,
    totpSecret: beginTotpEnrolment.secret,
    apiKey: createApiKey.secret,
  };
  await writeFile(seedFile, JSON.stringify(seed, null, 2), { mode: 0o600 });
  return seed;
}

async function signIn(gatewayUrl: string, person: { email: string; password: string }): Promise<string> {
  const response = await post(
    gatewayUrl,
    undefined,
    'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }',
    {
      input: { email: person.email, password: person.password },
    },
  );
  await unwrap(response);
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (cookie === undefined) throw new Error('sign-in set no cookie');
  return cookie;
}

async function call<Data>(
  gatewayUrl: string,
  cookie: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Data> {
  return unwrap<Data>(await post(gatewayUrl, cookie, query, variables));
}

function post(gatewayUrl: string, cookie: string | undefined, query: string, variables: Record<string, unknown>) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cookie !== undefined) headers.cookie = cookie;
  return fetch(gatewayUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
}

async function unwrap<Data>(response: Response): Promise<Data> {
  const body = (await response.json()) as GraphQLResponse<Data>;
  if (body.errors !== undefined || body.data === undefined) {
    throw new Error(`seeding failed: ${body.errors?.map((error) => error.message).join('; ') ?? response.status}`);
  }
  return body.data;
}

/**
 * The request body that runs the trusted document WorkspaceOverview (one question across all four
 * subgraphs) by id, as a partner with an API key must.
 */
export async function overviewRequest(): Promise<{
  extensions: { persistedQuery: { version: 1; sha256Hash: string } };
}> {
  const manifest = JSON.parse(await readFile(persistedQueryManifestFile, 'utf8')) as PersistedQueryManifest;
  const overview = manifest.operations.find((operation) => operation.name === 'WorkspaceOverview');
  if (overview === undefined) throw new Error('the trusted documents lack WorkspaceOverview');
  return { extensions: { persistedQuery: { version: 1, sha256Hash: overview.id } } };
}
