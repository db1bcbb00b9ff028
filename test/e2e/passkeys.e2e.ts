import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { cookieFrom, createWorkspace, signIn } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { launchChromium, openVirtualAuthenticator, startPasskeyPage } from '../src/passkey-browser.ts';
import type { PasskeyPageServer, VirtualAuthenticator } from '../src/passkey-browser.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// Its own stack: identity must accept the origin of the page this suite serves, which exists only
// once the page server listens.
let page: PasskeyPageServer;
let stack: TestStack;
let browser: Browser;
let authenticator: VirtualAuthenticator;

/** A client address of this test's own, so its failures count against no other test. */
const ownAddress = () => ({ 'x-forwarded-for': `203.0.${randomInt(0, 255)}.${randomInt(1, 255)}` });

const sessionCookiePattern =
  /^__Host-numezis-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/;

interface PasskeyData {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

async function beginRegistration(as: Caller): Promise<string> {
  return dataOf(
    await graphql<{ beginPasskeyRegistration: string }>(stack.gatewayUrl, 'mutation { beginPasskeyRegistration }', {
      as,
    }),
  ).beginPasskeyRegistration;
}

/** Creates a passkey in the browser for `person`; answers the passkey and the session's new cookie. */
async function registerPasskey(person: Caller, name = 'Laptop'): Promise<{ passkey: PasskeyData; caller: Caller }> {
  const response = await authenticator.create(await beginRegistration(person));
  const result = await graphql<{ finishPasskeyRegistration: PasskeyData }>(
    stack.gatewayUrl,
    'mutation ($response: String!, $name: String!) { finishPasskeyRegistration(response: $response, name: $name) { id name createdAt lastUsedAt } }',
    { as: person, variables: { response, name } },
  );
  const passkey = dataOf(result).finishPasskeyRegistration;
  // Creating the passkey was a multi-factor step: the session's token was replaced.
  return { passkey, caller: { ...person, cookie: cookieFrom(result) } };
}

async function beginSignIn(as?: Caller): Promise<string> {
  const result = await graphql<{ beginPasskeySignIn: string }>(stack.gatewayUrl, 'mutation { beginPasskeySignIn }', {
    ...(as === undefined ? {} : { as }),
  });
  return dataOf(result).beginPasskeySignIn;
}

function finishSignIn(
  response: string,
  headers = ownAddress(),
): Promise<GraphQLResult<{ finishPasskeySignIn: { mfaPending: boolean } | null }>> {
  return graphql(
    stack.gatewayUrl,
    'mutation ($response: String!) { finishPasskeySignIn(response: $response) { mfaPending } }',
    {
      variables: { response },
      headers,
    },
  );
}

const meQuery = '{ me { user { id } passkeys { id name lastUsedAt } sessions { current mfa } } }';
interface MeData {
  me: {
    user: { id: string };
    passkeys: { id: string; name: string; lastUsedAt: string | null }[];
    sessions: { current: boolean; mfa: boolean }[];
  };
}

describe('passkeys in a real browser', () => {
  before(async () => {
    page = await startPasskeyPage();
    browser = await launchChromium();
    stack = await startTestStack({
      serviceEnv: { identity: { IDENTITY_WEBAUTHN_ORIGINS: page.origin, IDENTITY_WEBAUTHN_RP_ID: 'localhost' } },
    });
  });
  after(async () => {
    await stack?.close();
    await browser?.close();
    await page?.close();
  });
  // A fresh authenticator per test: each holds only the passkeys of that test's person.
  beforeEach(async () => {
    authenticator = await openVirtualAuthenticator(browser, page.origin);
  });
  afterEach(() => authenticator.close());

  it('registers a passkey and signs in with it through the gateway', async () => {
    const workspace = await createWorkspace(stack);
    const options = JSON.parse(await beginRegistration(workspace)) as {
      rp: { id: string };
      authenticatorSelection: { userVerification: string; residentKey: string };
    };
    assert.equal(options.rp.id, 'localhost');
    assert.equal(options.authenticatorSelection.userVerification, 'required');
    assert.equal(options.authenticatorSelection.residentKey, 'preferred');

    const { passkey } = await registerPasskey(workspace, 'Work laptop');
    assert.equal(passkey.name, 'Work laptop');
    assert.equal(passkey.lastUsedAt, null);

    const signInOptions = await beginSignIn();
    assert.equal((JSON.parse(signInOptions) as { userVerification: string }).userVerification, 'preferred');
    const result = await finishSignIn(await authenticator.get(signInOptions));
    assert.deepEqual(dataOf(result), { finishPasskeySignIn: { mfaPending: false } });
    assert.match(result.setCookie ?? '', sessionCookiePattern);

    const session: Caller = { cookie: cookieFrom(result) };
    const data = dataOf(
      await graphql<MeData & { workspace: { id: string; name: string } }>(
        stack.gatewayUrl,
        `{ workspace { id name } ${meQuery.slice(1, -1)} }`,
        { as: session },
      ),
    );
    assert.deepEqual(data.workspace, { id: workspace.workspaceId, name: workspace.name });
    assert.equal(data.me.user.id, workspace.userId);
    assert.deepEqual(
      data.me.passkeys.map(({ id, name }) => ({ id, name })),
      [{ id: passkey.id, name: 'Work laptop' }],
    );
    assert.notEqual(data.me.passkeys[0]?.lastUsedAt, null);
    assert.equal(data.me.sessions.find((entry) => entry.current)?.mfa, true);
  });

  it('refuses a sign-in without user verification', async () => {
    const workspace = await createWorkspace(stack);
    await registerPasskey(workspace);
    // The person fails the authenticator's check. Asked to verify (the server's "preferred"), the
    // browser then gives up; a client that asks for no verification gets an assertion without the
    // UV flag, and only the server stands in its way.
    await authenticator.setUserVerified(false);
    const response = await authenticator.get(await beginSignIn(), { userVerification: 'discouraged' });
    const flags = Buffer.from(
      (JSON.parse(response) as { response: { authenticatorData: string } }).response.authenticatorData,
      'base64url',
    )[32];
    assert.equal((flags ?? 0) & 0x04, 0, 'the authenticator did not verify the user');

    const result = await finishSignIn(response);
    assert.equal(errorCode(result), 'UNAUTHENTICATED');
    assert.deepEqual(result.body.data, { finishPasskeySignIn: null });
    assert.equal(result.setCookie, null);
  });

  it('refuses a replayed assertion', async () => {
    const workspace = await createWorkspace(stack);
    await registerPasskey(workspace);
    const response = await authenticator.get(await beginSignIn());
    const headers = ownAddress();
    assert.deepEqual(dataOf(await finishSignIn(response, headers)), { finishPasskeySignIn: { mfaPending: false } });

    const replayed = await finishSignIn(response, headers);
    assert.equal(errorCode(replayed), 'NOT_FOUND');
    assert.deepEqual(replayed.body.data, { finishPasskeySignIn: null });
    assert.equal(replayed.setCookie, null);
  });

  it('is the second factor after a password', async () => {
    const workspace: Workspace = await createWorkspace(stack);
    await registerPasskey(workspace);

    const password = await signIn(stack, workspace.email);
    assert.deepEqual(dataOf(password), { signIn: { mfaPending: true } });
    const pending: Caller = { cookie: cookieFrom(password) };
    const refused = await graphql(stack.gatewayUrl, '{ workspace { id } }', { as: pending });
    assert.equal(errorCode(refused), 'FORBIDDEN');
    // A password alone can neither add a passkey nor remove one.
    const adding = await graphql(stack.gatewayUrl, 'mutation { beginPasskeyRegistration }', { as: pending });
    assert.equal(errorCode(adding), 'FORBIDDEN');
    const { me } = dataOf(await graphql<MeData>(stack.gatewayUrl, meQuery, { as: pending }));
    const removing = await graphql(stack.gatewayUrl, 'mutation ($id: ID!) { revokePasskey(id: $id) }', {
      as: pending,
      variables: { id: me.passkeys[0]?.id },
    });
    assert.equal(errorCode(removing), 'FORBIDDEN');

    // An assertion for an anonymous challenge is no second factor for this session.
    const unbound = await authenticator.get(await beginSignIn());
    const wrongChallenge = await graphql(
      stack.gatewayUrl,
      'mutation ($response: String!) { verifyPasskey(response: $response) }',
      {
        as: pending,
        variables: { response: unbound },
        headers: ownAddress(),
      },
    );
    assert.equal(errorCode(wrongChallenge), 'NOT_FOUND');

    const verified = await graphql<{ verifyPasskey: boolean }>(
      stack.gatewayUrl,
      'mutation ($response: String!) { verifyPasskey(response: $response) }',
      {
        as: pending,
        variables: { response: await authenticator.get(await beginSignIn(pending)) },
        headers: ownAddress(),
      },
    );
    assert.deepEqual(dataOf(verified), { verifyPasskey: true });
    assert.match(verified.setCookie ?? '', sessionCookiePattern);
    const full: Caller = { cookie: cookieFrom(verified) };
    const data = dataOf(
      await graphql<MeData & { workspace: { id: string } }>(
        stack.gatewayUrl,
        `{ workspace { id } ${meQuery.slice(1, -1)} }`,
        {
          as: full,
        },
      ),
    );
    assert.equal(data.workspace.id, workspace.workspaceId);
    assert.equal(data.me.sessions.find((entry) => entry.current)?.mfa, true);
    // The token from before the step is worthless after it.
    assert.equal(dataOf(await graphql(stack.gatewayUrl, '{ me { user { id } } }', { as: pending })).me, null);
  });

  it('revokes a passkey, which then no longer signs in', async () => {
    const workspace = await createWorkspace(stack);
    const { passkey, caller } = await registerPasskey(workspace);
    const stranger = await createWorkspace(stack);
    const foreign = await graphql(stack.gatewayUrl, 'mutation ($id: ID!) { revokePasskey(id: $id) }', {
      as: stranger,
      variables: { id: passkey.id },
    });
    assert.equal(errorCode(foreign), 'NOT_FOUND');

    const revoked = await graphql(stack.gatewayUrl, 'mutation ($id: ID!) { revokePasskey(id: $id) }', {
      as: caller,
      variables: { id: passkey.id },
    });
    assert.deepEqual(dataOf(revoked), { revokePasskey: true });
    assert.deepEqual(dataOf(await graphql<MeData>(stack.gatewayUrl, meQuery, { as: caller })).me.passkeys, []);
    const again = await graphql(stack.gatewayUrl, 'mutation ($id: ID!) { revokePasskey(id: $id) }', {
      as: caller,
      variables: { id: passkey.id },
    });
    assert.equal(errorCode(again), 'NOT_FOUND');

    // The credential is still on the authenticator, but the server no longer knows it.
    const result = await finishSignIn(await authenticator.get(await beginSignIn()));
    assert.equal(errorCode(result), 'UNAUTHENTICATED');
    assert.equal(result.setCookie, null);
    // Without a passkey, the password alone is a full sign-in again.
    assert.deepEqual(dataOf(await signIn(stack, workspace.email)), { signIn: { mfaPending: false } });
  });
});
