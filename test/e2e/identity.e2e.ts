import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { base32Decode, currentStep, mailsTo, systemClock, totpCode } from '@numezis/runtime';
import { dataOf, errorCode, graphql, send } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import {
  addMember,
  cookieFrom,
  createAccount,
  createWorkspace,
  latestCode,
  postEntryWithReceipt,
  signIn,
  signUp,
  testPassword,
} from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const { gatewayUrl } = stack;

const sessionCookieName = '__Host-numezis-session';

/**
 * A client address of its own (the test stack's gateway trusts 127.0.0.1 as a proxy) for attempts
 * that fail on purpose, so they count against no other test's brute-force limits. Drawn from
 * 10.0.0.0/8, apart from brute-force.e2e.ts's 198.51.0.0/16: an address that file drove to its
 * per-address limit (50 failures, 15 minutes) must not come up here (the likeliest cause of a
 * RATE_LIMITED answer to a replayed TOTP code, seen once in CI).
 */
const ownAddress = () => ({
  'x-forwarded-for': `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`,
});

/** signIn from an address of its own: for attempts that may fail. */
const signInFromElsewhere = (email: string, password: string) =>
  graphql(gatewayUrl, 'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }', {
    variables: { input: { email, password } },
    headers: ownAddress(),
  });

const readEverything = `{
  workspace { id name mfaRequired members { user { id } role } }
  accounts { id number name type }
  journalEntries { id amount description debitAccount { id } creditAccount { id } }
  documents { id fileName journalEntry { id } }
}`;

const meQuery =
  '{ me { user { id } email totpEnabled workspaces { workspace { id } role } sessions { id current mfa } } }';

interface MeData {
  me: {
    user: { id: string };
    email: string;
    totpEnabled: boolean;
    workspaces: { workspace: { id: string }; role: string }[];
    sessions: { id: string; current: boolean; mfa: boolean }[];
  } | null;
}

const mutations = {
  createAccount: 'mutation { createAccount(input: { number: "1000", name: "Kasse", type: ASSET }) { id } }',
  postJournalEntry: `mutation ($debit: ID!, $credit: ID!) {
    postJournalEntry(input: {
      bookingDate: "2026-04-01", description: "Versuch", amount: "10.00", debitAccountId: $debit, creditAccountId: $credit
    }) { id }
  }`,
  createDocumentUpload: 'mutation { createDocumentUpload(input: { fileName: "beleg.pdf" }) { uploadUrl } }',
  inviteMember: 'mutation ($email: String!) { inviteMember(input: { email: $email, role: VIEWER }) { id } }',
  setMfaRequired: 'mutation { setMfaRequired(required: true) { id mfaRequired } }',
};

function firstError(result: GraphQLResult<unknown>) {
  const error = result.body.errors?.[0];
  assert.ok(error !== undefined, `expected an error, got ${result.text}`);
  return error;
}

/** A refusal: the error code asserted, and no data for the refused field. */
function assertRefused(result: GraphQLResult<unknown>, code: string, reason?: string) {
  assert.equal(errorCode(result), code, result.text);
  if (reason !== undefined) assert.equal(firstError(result).extensions?.reason, reason, result.text);
  const data = result.body.data as Record<string, unknown> | null | undefined;
  if (data !== null && data !== undefined) {
    for (const [field, value] of Object.entries(data)) assert.equal(value, null, `${field} leaked: ${result.text}`);
  }
}

/** The Set-Cookie attributes of a result, name=value first. */
function cookieParts(result: GraphQLResult<unknown>): string[] {
  assert.ok(result.setCookie !== null, `expected a Set-Cookie header, got none for ${result.text}`);
  return result.setCookie.split(';').map((part) => part.trim());
}

function assertClearsCookie(result: GraphQLResult<unknown>) {
  const parts = cookieParts(result);
  assert.equal(parts[0], `${sessionCookieName}=`);
  assert.ok(parts.includes('Max-Age=0'), result.setCookie ?? '');
  assert.ok(parts.includes('Path=/'), result.setCookie ?? '');
}

const readWorkspace = (as: Caller) => graphql(gatewayUrl, '{ workspace { id mfaRequired } }', { as });
const me = async (as: Caller) => dataOf(await graphql<MeData>(gatewayUrl, meQuery, { as })).me;

/**
 * Sends a TOTP code for the current step (plus `stepOffset`) and retries once if the 30-second step
 * rolled over between computing the code and the answer, so the test never depends on timing.
 */
async function withTotpCode(
  secret: string,
  call: (code: string) => Promise<GraphQLResult<unknown>>,
  stepOffset = 0,
): Promise<{ result: GraphQLResult<unknown>; code: string }> {
  const key = base32Decode(secret);
  for (let attempt = 0; ; attempt++) {
    const step = currentStep(systemClock);
    const code = totpCode(key, step + stepOffset);
    const result = await call(code);
    if (result.body.errors === undefined || currentStep(systemClock) === step || attempt > 0) return { result, code };
  }
}

async function beginTotpEnrolment(as: Caller): Promise<{ otpauthUri: string; secret: string }> {
  return dataOf(
    await graphql<{ beginTotpEnrolment: { otpauthUri: string; secret: string } }>(
      gatewayUrl,
      'mutation { beginTotpEnrolment { otpauthUri secret } }',
      { as },
    ),
  ).beginTotpEnrolment;
}

const confirmTotp = (as: Caller, code: string) =>
  graphql(gatewayUrl, 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', {
    as,
    variables: { code },
    headers: ownAddress(),
  });

const verifyTotp = (as: Caller, code: string) =>
  graphql(gatewayUrl, 'mutation ($code: String!) { verifyTotp(code: $code) }', {
    as,
    variables: { code },
    headers: ownAddress(),
  });

/**
 * Enrols TOTP with the code of the previous step (the server accepts it), so that the current step's
 * code is still unused for a sign-in right after. Returns the secret and the rotated session.
 */
async function enrolTotp(person: Workspace): Promise<{ secret: string; cookie: string }> {
  const { secret } = await beginTotpEnrolment(person);
  const { result } = await withTotpCode(secret, (code) => confirmTotp(person, code), -1);
  assert.deepEqual(dataOf(result), { confirmTotpEnrolment: true });
  return { secret, cookie: cookieFrom(result) };
}

async function invite(admin: Workspace, email: string, role: string) {
  return graphql<{ inviteMember: { id: string; email: string; role: string } }>(
    gatewayUrl,
    'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id email role } }',
    { as: admin, variables: { input: { email, role } } },
  );
}

const acceptInvitation = (as: Caller, token: string) =>
  graphql<{ acceptInvitation: { id: string } }>(
    gatewayUrl,
    'mutation ($token: String!) { acceptInvitation(token: $token) { id } }',
    { as, variables: { token } },
  );

describe('identity through the gateway: sign-in, roles and MFA', () => {
  it('a Viewer reads but cannot write; once the Admin requires MFA, the Viewer enrols TOTP and the session rotates', async () => {
    const admin = await createWorkspace(stack, 'Viewer Treuhand AG');
    const { entryId } = await postEntryWithReceipt(gatewayUrl, admin);
    const viewer = await addMember(stack, admin, 'VIEWER');

    const before = dataOf(await graphql(gatewayUrl, readEverything, { as: admin }));
    const asViewer = dataOf(
      await graphql<{
        workspace: { id: string; members: { user: { id: string }; role: string }[] };
        accounts: { id: string }[];
        journalEntries: { id: string; debitAccount: { id: string }; creditAccount: { id: string } }[];
        documents: { id: string }[];
      }>(gatewayUrl, readEverything, { as: viewer }),
    );
    assert.deepEqual(asViewer, before);
    assert.equal(asViewer.workspace.id, admin.workspaceId);
    assert.deepEqual(
      asViewer.journalEntries.map((entry) => entry.id),
      [entryId],
    );
    assert.equal(asViewer.accounts.length, 2);
    assert.equal(asViewer.documents.length, 1);
    assert.deepEqual(
      new Set(asViewer.workspace.members.map((member) => `${member.user.id}:${member.role}`)),
      new Set([`${admin.userId}:ADMIN`, `${viewer.userId}:VIEWER`]),
    );

    const [entry] = asViewer.journalEntries;
    assert.ok(entry !== undefined);
    const invited = `${randomUUID()}@example.ch`;
    const writeVariables: Record<string, Record<string, unknown>> = {
      postJournalEntry: { debit: entry.debitAccount.id, credit: entry.creditAccount.id },
      inviteMember: { email: invited },
    };
    for (const [name, query] of Object.entries(mutations)) {
      const result: GraphQLResult<unknown> = await graphql(gatewayUrl, query, {
        as: viewer,
        variables: writeVariables[name] ?? {},
      });
      assert.equal(errorCode(result), 'FORBIDDEN', `${name}: ${result.text}`);
      assert.equal(result.body.data ?? null, null, `${name}: ${result.text}`);
    }
    assert.deepEqual(dataOf(await graphql(gatewayUrl, readEverything, { as: admin })), before);
    assert.deepEqual(await mailsTo(stack.outboxDir, invited), []);

    // The Admin requires MFA: it applies to every member at once, existing sessions included.
    const required = await graphql(gatewayUrl, mutations.setMfaRequired, { as: admin });
    assert.deepEqual(dataOf(required), { setMfaRequired: { id: admin.workspaceId, mfaRequired: true } });

    for (const held of [viewer, admin]) {
      assertRefused(await readWorkspace(held), 'FORBIDDEN', 'MFA_REQUIRED');
      assertRefused(await graphql(gatewayUrl, '{ journalEntries { id } }', { as: held }), 'FORBIDDEN', 'MFA_REQUIRED');
      assertRefused(await graphql(gatewayUrl, '{ documents { id } }', { as: held }), 'FORBIDDEN', 'MFA_REQUIRED');
    }
    // Held at the MFA step, the Admin cannot turn the requirement off again either.
    assertRefused(
      await graphql(gatewayUrl, 'mutation { setMfaRequired(required: false) { id } }', { as: admin }),
      'FORBIDDEN',
      'MFA_REQUIRED',
    );

    // The Viewer enrols with the same (old) session.
    const enrolment = await beginTotpEnrolment(viewer);
    assert.match(enrolment.secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(enrolment.otpauthUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), `/Numezis:${viewer.email}`);
    assert.equal(uri.searchParams.get('secret'), enrolment.secret);
    assert.equal(uri.searchParams.get('issuer'), 'Numezis');

    const { result: confirmed } = await withTotpCode(enrolment.secret, (code) => confirmTotp(viewer, code));
    assert.deepEqual(dataOf(confirmed), { confirmTotpEnrolment: true });
    const rotated = cookieFrom(confirmed);
    assert.notEqual(rotated, viewer.cookie);

    const viewerNow = { cookie: rotated, workspaceId: admin.workspaceId };
    assert.deepEqual(dataOf(await readWorkspace(viewerNow)), {
      workspace: { id: admin.workspaceId, mfaRequired: true },
    });
    const readAgain = dataOf(
      await graphql<{ journalEntries: { id: string }[] }>(gatewayUrl, readEverything, { as: viewerNow }),
    );
    assert.deepEqual(
      readAgain.journalEntries.map((read) => read.id),
      [entryId],
    );
    const viewerMe = await me(viewerNow);
    assert.equal(viewerMe?.totpEnabled, true);
    assert.deepEqual(
      viewerMe?.sessions.filter((session) => session.current).map((session) => session.mfa),
      [true],
    );
    // Still a Viewer: MFA grants no write.
    assertRefused(await graphql(gatewayUrl, mutations.createAccount, { as: viewerNow }), 'FORBIDDEN');

    // The cookie from before the MFA step names no session any more.
    const stale = await readWorkspace(viewer);
    assertRefused(stale, 'UNAUTHENTICATED');
    assertClearsCookie(stale);
    assert.equal(await me(viewer), null);

    // The Admin is held until they enrol too; then they act again.
    assertRefused(await readWorkspace(admin), 'FORBIDDEN', 'MFA_REQUIRED');
    const adminEnrolled = await enrolTotp(admin);
    const adminNow = { cookie: adminEnrolled.cookie, workspaceId: admin.workspaceId };
    assert.deepEqual(dataOf(await readWorkspace(adminNow)), {
      workspace: { id: admin.workspaceId, mfaRequired: true },
    });
    assert.deepEqual(dataOf(await graphql(gatewayUrl, readEverything, { as: adminNow })), {
      ...before,
      workspace: { ...(before.workspace as Record<string, unknown>), mfaRequired: true },
    });
  });

  it('a fiduciary member of two workspaces sees only the one named by the workspace header', async () => {
    const alpha = await createWorkspace(stack, 'Alpha Kunde GmbH');
    const beta = await createWorkspace(stack, 'Beta Kunde AG');
    const stranger = await createWorkspace(stack, 'Fremde Firma AG');
    const postedAlpha = await postEntryWithReceipt(gatewayUrl, alpha);
    const postedBeta = await postEntryWithReceipt(gatewayUrl, beta);
    const postedStranger = await postEntryWithReceipt(gatewayUrl, stranger);

    const fiduciary = await signUp(stack, 'Treuhänderin');
    for (const [admin, role] of [
      [alpha, 'MANAGER'],
      [beta, 'OPERATOR'],
    ] as const) {
      dataOf(await invite(admin, fiduciary.email, role));
      const accepted = await acceptInvitation(fiduciary, await latestCode(stack, fiduciary.email));
      assert.deepEqual(dataOf(accepted), { acceptInvitation: { id: admin.workspaceId } });
    }

    const access = (await me(fiduciary))?.workspaces ?? [];
    assert.deepEqual(
      new Set(access.map((entry) => `${entry.workspace.id}:${entry.role}`)),
      new Set([`${alpha.workspaceId}:MANAGER`, `${beta.workspaceId}:OPERATOR`]),
    );

    const scoped = `{
      workspace { id }
      journalEntries { id }
      documents { id }
    }`;
    for (const [workspace, posted] of [
      [alpha, postedAlpha],
      [beta, postedBeta],
      [alpha, postedAlpha],
    ] as const) {
      const result = await graphql(gatewayUrl, scoped, { as: { ...fiduciary, workspaceId: workspace.workspaceId } });
      assert.deepEqual(dataOf(result), {
        workspace: { id: workspace.workspaceId },
        journalEntries: [{ id: posted.entryId }],
        documents: [{ id: posted.documentId }],
      });
    }

    // An entry of the other workspace cannot be fetched by id either.
    const crossRead = await graphql(gatewayUrl, 'query ($id: ID!) { journalEntry(id: $id) { id } }', {
      as: { ...fiduciary, workspaceId: alpha.workspaceId },
      variables: { id: postedBeta.entryId },
    });
    assert.deepEqual(crossRead.body.data, { journalEntry: null });

    // A workspace the person is not a member of (or one that does not exist) gives no access at all.
    const allData = `query ($a: ID!, $b: ID!, $c: ID!) {
      workspace { id }
      accounts { id }
      journalEntries { id }
      documents { id }
      a: journalEntry(id: $a) { id }
      b: journalEntry(id: $b) { id }
      c: journalEntry(id: $c) { id }
    }`;
    for (const workspaceId of [stranger.workspaceId, randomUUID()]) {
      const result = await graphql(gatewayUrl, allData, {
        as: { ...fiduciary, workspaceId },
        variables: { a: postedAlpha.entryId, b: postedBeta.entryId, c: postedStranger.entryId },
      });
      assert.ok((result.body.errors?.length ?? 0) > 0, result.text);
      assert.deepEqual(result.body.data, {
        workspace: null,
        accounts: null,
        journalEntries: null,
        documents: null,
        a: null,
        b: null,
        c: null,
      });
      for (const error of result.body.errors ?? []) {
        assert.ok(['UNAUTHENTICATED', 'FORBIDDEN'].includes(String(error.extensions?.code)), result.text);
      }
      for (const id of [postedAlpha, postedBeta, postedStranger].flatMap((posted) => Object.values(posted))) {
        assert.ok(!result.text.includes(id), `leaked ${id}: ${result.text}`);
      }
      assert.ok(!result.text.includes(alpha.workspaceId) && !result.text.includes(beta.workspaceId), result.text);
    }
  });

  describe('the session cookie', () => {
    it('signIn sets a __Host- cookie that is HttpOnly, Secure, SameSite=Strict, Path=/ with a Max-Age', async () => {
      const person = await signUp(stack);
      const result = await signIn(stack, person.email);
      assert.deepEqual(dataOf(result), { signIn: { mfaPending: false } });
      const [nameValue, ...attributes] = cookieParts(result);
      assert.match(nameValue ?? '', new RegExp(`^${sessionCookieName}=[A-Za-z0-9_-]{43}$`));
      for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) {
        assert.ok(attributes.includes(attribute), `${attribute} missing in ${result.setCookie}`);
      }
      const maxAge = attributes.find((attribute) => attribute.startsWith('Max-Age='));
      assert.match(maxAge ?? '', /^Max-Age=[1-9][0-9]*$/);
      assert.ok(!attributes.some((attribute) => /^Domain=/i.test(attribute)), 'a __Host- cookie has no Domain');
      assert.equal((await me({ cookie: cookieFrom(result) }))?.user.id, person.userId);
    });

    it('signOut clears the cookie and the old cookie is refused afterwards', async () => {
      const admin = await createWorkspace(stack);
      assert.ok(dataOf(await readWorkspace(admin)).workspace !== null);

      const signedOut = await graphql(gatewayUrl, 'mutation { signOut }', { as: admin });
      assert.deepEqual(dataOf(signedOut), { signOut: true });
      assertClearsCookie(signedOut);

      assertRefused(await readWorkspace(admin), 'UNAUTHENTICATED');
      assert.equal(await me(admin), null);
      assertRefused(await graphql(gatewayUrl, '{ journalEntries { id } }', { as: admin }), 'UNAUTHENTICATED');
    });

    it('me.sessions lists the current session as current', async () => {
      const person = await signUp(stack);
      const second = cookieFrom(await signIn(stack, person.email));

      const fromFirst = await me(person);
      const fromSecond = await me({ cookie: second });
      assert.equal(fromFirst?.sessions.length, 2);
      assert.equal(fromFirst.sessions.filter((session) => session.current).length, 1);
      assert.equal(fromSecond?.sessions.filter((session) => session.current).length, 1);
      const firstId = fromFirst.sessions.find((session) => session.current)?.id;
      const secondId = fromSecond.sessions.find((session) => session.current)?.id;
      assert.ok(firstId !== undefined && secondId !== undefined);
      assert.notEqual(firstId, secondId);
      assert.deepEqual(new Set(fromFirst.sessions.map((session) => session.id)), new Set([firstId, secondId]));
      assert.ok(fromFirst.sessions.every((session) => !session.mfa));
    });

    it('revokeSession of one’s own other session makes that cookie anonymous on its next request', async () => {
      const admin = await createWorkspace(stack);
      const laptop = { cookie: cookieFrom(await signIn(stack, admin.email)), workspaceId: admin.workspaceId };
      const laptopId = (await me(laptop))?.sessions.find((session) => session.current)?.id;
      assert.ok(laptopId !== undefined);

      const revoked = await graphql(gatewayUrl, 'mutation ($id: ID!) { revokeSession(id: $id) }', {
        as: admin,
        variables: { id: laptopId },
      });
      assert.deepEqual(dataOf(revoked), { revokeSession: true });
      // Revoking another session leaves the caller's own cookie alone.
      assert.equal(revoked.setCookie, null);

      const next = await readWorkspace(laptop);
      assertRefused(next, 'UNAUTHENTICATED');
      assertClearsCookie(next);
      assert.equal(await me(laptop), null);

      const remaining = (await me(admin))?.sessions ?? [];
      assert.deepEqual(
        remaining.map((session) => session.current),
        [true],
      );
      assert.deepEqual(dataOf(await readWorkspace(admin)), {
        workspace: { id: admin.workspaceId, mfaRequired: false },
      });

      // Someone else's session is not one's own to revoke.
      const other = await signUp(stack);
      const otherId = (await me(other))?.sessions[0]?.id;
      assert.ok(otherId !== undefined);
      assertRefused(
        await graphql(gatewayUrl, 'mutation ($id: ID!) { revokeSession(id: $id) }', {
          as: admin,
          variables: { id: otherId },
        }),
        'NOT_FOUND',
      );
      assert.equal((await me(other))?.user.id, other.userId);
    });

    it('a garbage cookie is treated as anonymous and gets a clearing Set-Cookie', async () => {
      for (const token of ['garbage', randomBytes(32).toString('base64url')]) {
        const cookie = `${sessionCookieName}=${token}`;
        const meResult = await graphql<MeData>(gatewayUrl, meQuery, { as: { cookie } });
        assert.equal(meResult.status, 200);
        assert.deepEqual(meResult.body, { data: { me: null } });
        assertClearsCookie(meResult);

        const workspace = await readWorkspace({ cookie });
        assertRefused(workspace, 'UNAUTHENTICATED');
        assertClearsCookie(workspace);
      }
    });
  });

  describe('no user enumeration', () => {
    it('signUp with a registered email answers like a new one and mails the address instead', async () => {
      const person = await signUp(stack, 'Erste Person');
      const mailsBefore = await mailsTo(stack.outboxDir, person.email);
      const signUpMutation = 'mutation ($input: SignUpInput!) { signUp(input: $input) }';

      const fresh = await graphql(gatewayUrl, signUpMutation, {
        variables: { input: { email: `${randomUUID()}@example.ch`, password: testPassword, displayName: 'Neu' } },
      });
      const taken = await graphql(gatewayUrl, signUpMutation, {
        variables: {
          input: { email: person.email.toUpperCase(), password: 'another long passphrase 42', displayName: 'Dieb' },
        },
      });
      assert.equal(taken.status, fresh.status);
      assert.deepEqual(taken.body, fresh.body);
      assert.deepEqual(taken.body, { data: { signUp: true } });
      assert.equal(taken.setCookie, fresh.setCookie);

      const mailsAfter = await mailsTo(stack.outboxDir, person.email);
      assert.equal(mailsAfter.length, mailsBefore.length + 1);
      const confirmation = mailsBefore.at(-1);
      const notice = mailsAfter.at(-1);
      assert.ok(confirmation !== undefined && notice !== undefined);
      assert.notEqual(notice.subject, confirmation.subject);
      assert.doesNotMatch(notice.text, /[A-Za-z0-9_-]{43}/, 'the notice carries no confirmation code');

      // The existing account is untouched: its password still works, the new one does not.
      assert.equal(errorCode(await signIn(stack, person.email)), undefined);
      assertRefused(await signInFromElsewhere(person.email, 'another long passphrase 42'), 'UNAUTHENTICATED');
      assert.equal((await me(person))?.user.id, person.userId);
    });

    it('signIn with an unknown email and with a wrong password fail alike', async () => {
      const person = await signUp(stack);
      const unknown = await signInFromElsewhere(`${randomUUID()}@example.ch`, testPassword);
      const wrong = await signInFromElsewhere(person.email, 'not the right passphrase');
      assert.equal(errorCode(unknown), 'UNAUTHENTICATED');
      assert.equal(wrong.status, unknown.status);
      assert.deepEqual(wrong.body.data, unknown.body.data);
      assert.equal(firstError(wrong).message, firstError(unknown).message);
      assert.deepEqual(
        { ...firstError(wrong).extensions, requestId: undefined },
        { ...firstError(unknown).extensions, requestId: undefined },
      );
      assert.equal(wrong.setCookie, null);
      assert.equal(unknown.setCookie, null);
    });

    it('signIn before the email is confirmed is refused, and confirmation codes work once', async () => {
      const email = `${randomUUID()}@example.ch`;
      dataOf(
        await graphql(gatewayUrl, 'mutation ($input: SignUpInput!) { signUp(input: $input) }', {
          variables: { input: { email, password: testPassword, displayName: 'Unbestätigt' } },
        }),
      );
      const early = await signInFromElsewhere(email, testPassword);
      assertRefused(early, 'UNAUTHENTICATED');
      assert.equal(early.setCookie, null);

      const verifyEmail = (token: string) =>
        graphql(gatewayUrl, 'mutation ($token: String!) { verifyEmail(token: $token) }', { variables: { token } });
      const code = await latestCode(stack, email);
      assert.deepEqual(dataOf(await verifyEmail(code)), { verifyEmail: true });
      assertRefused(await verifyEmail(code), 'NOT_FOUND');
      assertRefused(await verifyEmail('garbage'), 'NOT_FOUND');
      assertRefused(await verifyEmail(randomBytes(32).toString('base64url')), 'NOT_FOUND');

      const signedIn = await signIn(stack, email);
      assert.deepEqual(dataOf(signedIn), { signIn: { mfaPending: false } });
      assert.equal((await me({ cookie: cookieFrom(signedIn) }))?.email, email);
    });
  });

  it('TOTP is a second factor: a password-only session is held until verifyTotp, and codes work once', async () => {
    const admin = await createWorkspace(stack, 'Zwei Faktoren GmbH');
    const enrolled = await enrolTotp(admin);
    assert.equal((await me({ cookie: enrolled.cookie }))?.totpEnabled, true);

    const signedIn = await signIn(stack, admin.email);
    assert.deepEqual(dataOf(signedIn), { signIn: { mfaPending: true } });
    const pending = { cookie: cookieFrom(signedIn), workspaceId: admin.workspaceId };

    assertRefused(await readWorkspace(pending), 'FORBIDDEN', 'MFA_REQUIRED');
    assertRefused(await graphql(gatewayUrl, '{ journalEntries { id } }', { as: pending }), 'FORBIDDEN', 'MFA_REQUIRED');
    assertRefused(
      await graphql(gatewayUrl, 'mutation { beginTotpEnrolment { secret } }', { as: pending }),
      'FORBIDDEN',
      'MFA_REQUIRED',
    );
    // Each refused code counts towards the per-person brute-force limit (5): two are enough here.
    for (const malformed of ['12345', 'abc123']) {
      const refused = await verifyTotp(pending, malformed);
      assertRefused(refused, 'BAD_USER_INPUT');
      assert.equal(firstError(refused).extensions?.field, 'code');
      assert.equal(refused.setCookie, null);
    }
    assertRefused(await readWorkspace(pending), 'FORBIDDEN', 'MFA_REQUIRED');

    const { result: verified, code } = await withTotpCode(enrolled.secret, (candidate) =>
      verifyTotp(pending, candidate),
    );
    assert.deepEqual(dataOf(verified), { verifyTotp: true });
    const full = { cookie: cookieFrom(verified), workspaceId: admin.workspaceId };
    assert.notEqual(full.cookie, pending.cookie);
    assert.deepEqual(dataOf(await readWorkspace(full)), { workspace: { id: admin.workspaceId, mfaRequired: false } });
    assert.deepEqual(
      (await me(full))?.sessions.filter((session) => session.current).map((session) => session.mfa),
      [true],
    );
    assertRefused(await readWorkspace(pending), 'UNAUTHENTICATED');

    // The same code in another fresh session is a replay.
    const another = { cookie: cookieFrom(await signIn(stack, admin.email)), workspaceId: admin.workspaceId };
    const replayed = await verifyTotp(another, code);
    assertRefused(replayed, 'BAD_USER_INPUT');
    assert.equal(firstError(replayed).extensions?.field, 'code');
    assert.equal(replayed.setCookie, null);
    assertRefused(await readWorkspace(another), 'FORBIDDEN', 'MFA_REQUIRED');

    // Once verified, the person may replace their authenticator.
    const replacement = await beginTotpEnrolment(full);
    assert.notEqual(replacement.secret, enrolled.secret);
  });

  describe('invitations', () => {
    it('an invitation code works only for the invited email, and only once', async () => {
      const admin = await createWorkspace(stack);
      const invitee = await signUp(stack, 'Eingeladene Person');
      const other = await signUp(stack, 'Andere Person');

      const invited = dataOf(await invite(admin, invitee.email.toUpperCase(), 'OPERATOR')).inviteMember;
      assert.equal(invited.email, invitee.email);
      assert.equal(invited.role, 'OPERATOR');
      const code = await latestCode(stack, invitee.email);

      assertRefused(await acceptInvitation(other, code), 'NOT_FOUND');
      assert.deepEqual((await me(other))?.workspaces, []);

      assert.deepEqual(dataOf(await acceptInvitation(invitee, code)), {
        acceptInvitation: { id: admin.workspaceId },
      });
      assert.deepEqual((await me(invitee))?.workspaces, [{ workspace: { id: admin.workspaceId }, role: 'OPERATOR' }]);

      assertRefused(await acceptInvitation(invitee, code), 'NOT_FOUND');
      assertRefused(await acceptInvitation(other, code), 'NOT_FOUND');
      assertRefused(await acceptInvitation(invitee, 'garbage'), 'NOT_FOUND');

      const members = dataOf(
        await graphql<{ workspace: { members: { user: { id: string }; role: string }[] } }>(
          gatewayUrl,
          '{ workspace { members { user { id } role } } }',
          { as: admin },
        ),
      ).workspace.members;
      assert.deepEqual(
        new Set(members.map((member) => `${member.user.id}:${member.role}`)),
        new Set([`${admin.userId}:ADMIN`, `${invitee.userId}:OPERATOR`]),
      );
    });

    it('a Manager cannot invite an Admin', async () => {
      const admin = await createWorkspace(stack);
      const manager = await addMember(stack, admin, 'MANAGER');
      // The Manager can write in the workspace...
      await createAccount(gatewayUrl, manager, '1000');

      // ...but not hand out the Admin role.
      const target = `${randomUUID()}@example.ch`;
      const refused = await invite(manager, target, 'ADMIN');
      assertRefused(refused, 'FORBIDDEN');
      assert.deepEqual(await mailsTo(stack.outboxDir, target), []);

      const roles = dataOf(
        await graphql<{ workspace: { members: { role: string }[] } }>(
          gatewayUrl,
          '{ workspace { members { role } } }',
          {
            as: admin,
          },
        ),
      ).workspace.members.map((member) => member.role);
      assert.deepEqual(roles.sort(), ['ADMIN', 'MANAGER']);
    });
  });

  it('requests with an unparsable workspace header are refused before anything runs', async () => {
    const admin = await createWorkspace(stack);
    const result = await send(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-numezis-workspace': 'not-a-uuid' },
      body: JSON.stringify({ query: '{ workspace { id } }' }),
    });
    assert.equal(result.status, 400);
    assert.equal(errorCode(result), 'BAD_REQUEST');
    assert.equal(result.body.data ?? null, null);
  });
});
