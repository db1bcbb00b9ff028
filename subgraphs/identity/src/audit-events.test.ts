import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  base32Decode,
  contextHeader,
  createContextSigner,
  createSubgraphService,
  createTestDatabases,
  currentStep,
  generateContextKeyPair,
  manualClock,
  maskedEmail,
  parseSigningKey,
  readSubgraphConfig,
  rolePermissions,
  systemAccess,
  systemClock,
  totpCode,
} from '@numezis/runtime';
import type { AuditEvent, ForwardedContext, GraphQLBody, Role, SubgraphService, TestDatabases } from '@numezis/runtime';
import { auditRelayJobName, outboxTable } from '@numezis/runtime/audit/outbox';
import { asc } from 'drizzle-orm';
import { readIdentitySettings } from './config.ts';
import { createIdentitySubgraph } from './definition.ts';
import type { Mail } from './mail/outbox.ts';
import { SoftAuthenticator, testRelyingParty } from './passkeys/soft-authenticator.ts';

// Runs against PostgreSQL when DATABASE_URL is set, against PGlite otherwise. The service is driven
// in-process like startInProcessSubgraph does, but with contexts signed here: creating an API key
// needs a recent second factor (mfaAt), which that helper never signs.

type Actor = ForwardedContext['actor'];
type Access = ForwardedContext['access'];

interface Person {
  readonly userId: string;
  readonly sessionId: string;
  readonly email: string;
  readonly password: string;
  /** Every one-time code mailed to the person, to prove none reaches the trail. */
  readonly codes: string[];
}

const password = () => `pw-${randomBytes(12).toString('base64url')}`;
const codeIn = (mail: Mail) => mail.text.split(/\s+/).at(-1) ?? '';
// Fixed, so TOTP steps are known: a code of the step before for enrolment, the current one after it.
const clock = manualClock(Date.now());
const nowSeconds = () => Math.floor(clock.now() / 1000);

/** The fields given match; targets match exactly (a partial match of arrays would accept any subset). */
function assertEvent(event: AuditEvent, expected: { readonly [field in keyof AuditEvent]?: unknown }): void {
  assert.partialDeepStrictEqual(event, expected);
  if (expected.targets !== undefined) assert.deepEqual(event.targets, expected.targets);
}

describe('audit events of identity mutations', () => {
  let service: SubgraphService;
  let databases: TestDatabases;
  const mails: Mail[] = [];
  const keys = generateContextKeyPair('test');
  const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });

  before(async () => {
    databases = await createTestDatabases(process.env, ['identity']);
    const settings = readIdentitySettings(
      { IDENTITY_WEBAUTHN_RP_ID: testRelyingParty.rpId, IDENTITY_WEBAUTHN_ORIGINS: testRelyingParty.origin },
      'test',
      { mailOutboxDir: join(tmpdir(), 'unused-outbox') },
    );
    const definition = createIdentitySubgraph(settings, clock, {
      send: async (mail) => {
        mails.push(mail);
      },
    });
    const config = readSubgraphConfig(
      {
        CONTEXT_VERIFY_KEYS: keys.verifyKey,
        LOG_LEVEL: 'warn',
        KMS_LOCAL_MASTER_KEY: randomBytes(32).toString('base64url'),
      },
      definition,
    );
    service = await createSubgraphService(definition, { ...config, database: databases.settingsFor('identity') });
  });
  after(async () => {
    await service.close();
    await databases.dispose();
  });

  const anonymous = { actor: { kind: 'anonymous' }, access: { kind: 'anonymous' } } as const;
  const asPerson = (person: Person, access: Access = { kind: 'account' }, mfa = false) => ({
    actor: { kind: 'user', userId: person.userId, sessionId: person.sessionId } satisfies Actor,
    access,
    mfaAt: mfa ? nowSeconds() : null,
  });
  const inWorkspace = (person: Person, tenantId: string, role: Role = 'ADMIN', mfa = false) =>
    asPerson(person, { kind: 'tenant', tenantId, role, permissions: rolePermissions[role] }, mfa);

  async function post(
    as: { actor: Actor; access: Access; mfaAt?: number | null },
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLBody> {
    const context: ForwardedContext = {
      requestId: randomUUID(),
      clientIp: '127.0.0.1',
      userAgent: 'unit-test',
      actor: as.actor,
      access: as.access,
      mfaAt: as.mfaAt ?? null,
      mfaRequired: false,
    };
    const response = await service.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { [contextHeader]: signer.sign(context, 'identity'), 'content-type': 'application/json' },
      payload: { query, variables },
    });
    return response.json<GraphQLBody>();
  }

  function outbox(): Promise<AuditEvent[]> {
    const table = outboxTable('identity');
    return service.dataAccess.unsafeAsSystem(systemAccess(auditRelayJobName('identity')), async (tx) =>
      (await tx.select({ event: table.event }).from(table).orderBy(asc(table.position))).map((row) => row.event),
    );
  }

  /** Runs one mutation and returns its single event; fails when it left none or several. */
  async function onlyEventOf(call: () => Promise<GraphQLBody>): Promise<{ body: GraphQLBody; event: AuditEvent }> {
    const seen = (await outbox()).length;
    const body = await call();
    const events = (await outbox()).slice(seen);
    assert.equal(events.length, 1, `expected one event, got ${JSON.stringify(events)}`);
    return { body, event: events[0] as AuditEvent };
  }

  const assertInstant = (value: unknown) =>
    assert.ok(
      typeof value === 'string' && new Date(value).toISOString() === value,
      `not an ISO instant: ${typeof value}`,
    );

  const succeeded = (body: GraphQLBody) => assert.equal(body.errors, undefined, JSON.stringify(body.errors));

  function assertNoSecrets(events: readonly AuditEvent[], secrets: readonly string[]): void {
    const json = JSON.stringify(events);
    for (const secret of secrets) assert.ok(!json.includes(secret), `the trail holds a secret: ${secret}`);
  }

  const lastMailTo = (email: string) => {
    const mail = mails.findLast((entry) => entry.to === email);
    if (mail === undefined) throw new Error(`no mail to ${email}`);
    return mail;
  };

  /** Signs up, confirms the address and signs in, checking the event of each step. */
  async function signedIn(): Promise<Person> {
    const email = `person-${randomUUID()}@example.ch`;
    const secret = password();
    const signUp = await onlyEventOf(() =>
      post(anonymous, 'mutation ($input: SignUpInput!) { signUp(input: $input) }', {
        input: { email, password: secret, displayName: 'Anna Muster' },
      }),
    );
    succeeded(signUp.body);
    const userId = signUp.event.targets[0]?.id ?? '';
    assertEvent(signUp.event, {
      source: 'identity',
      action: 'account.signed_up',
      outcome: 'success',
      reason: null,
      tenantId: null,
      actor: { kind: 'anonymous' },
      targets: [{ type: 'User', id: userId }],
      before: null,
      after: { displayName: 'Anna Muster', email: maskedEmail(email), emailVerified: false },
      ip: '127.0.0.1',
    });
    const verification = codeIn(lastMailTo(email));

    const verified = await onlyEventOf(() =>
      post(anonymous, 'mutation ($token: String!) { verifyEmail(token: $token) }', { token: verification }),
    );
    succeeded(verified.body);
    assertEvent(verified.event, {
      action: 'account.email_verified',
      outcome: 'success',
      tenantId: null,
      targets: [{ type: 'User', id: userId }],
      before: { emailVerifiedAt: null },
    });

    const signIn = await onlyEventOf(() =>
      post(anonymous, 'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }', {
        input: { email, password: secret },
      }),
    );
    succeeded(signIn.body);
    const sessionId = signIn.event.targets[1]?.id ?? '';
    assert.deepEqual(
      {
        action: signIn.event.action,
        outcome: signIn.event.outcome,
        tenantId: signIn.event.tenantId,
        actor: signIn.event.actor,
        targets: signIn.event.targets,
        before: signIn.event.before,
      },
      {
        action: 'auth.signed_in',
        outcome: 'success',
        tenantId: null,
        // The request was anonymous: the event names who it signed in, with the new session.
        actor: { kind: 'user', userId, sessionId, mfa: false },
        targets: [
          { type: 'User', id: userId },
          { type: 'Session', id: sessionId },
        ],
        before: null,
      },
    );
    assert.partialDeepStrictEqual(signIn.event.after, {
      authenticatedWith: 'PASSWORD',
      mfa: false,
      secondFactorPending: false,
      replacedSessionId: null,
    });
    return { userId, sessionId, email, password: secret, codes: [verification] };
  }

  async function workspace(owner: Person): Promise<string> {
    const created = await post(
      asPerson(owner, { kind: 'account' }, true),
      'mutation { createWorkspace(input: { name: "Muster AG", fiscalYearStartMonth: 7 }) { id } }',
    );
    succeeded(created);
    return (created.data?.createWorkspace as { id: string }).id;
  }

  it('records sign-up, confirmation and sign-in with no password, code or plain address', async () => {
    const seen = (await outbox()).length;
    const person = await signedIn();
    const events = (await outbox()).slice(seen);
    assert.equal(events.length, 3);
    assertNoSecrets(events, [person.password, person.email, ...person.codes]);
  });

  it('records a wrong password as one denied sign-in, by nobody, of no workspace', async () => {
    const person = await signedIn();
    const wrong = `${person.password}x`;
    const { body, event } = await onlyEventOf(() =>
      post(anonymous, 'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }', {
        input: { email: person.email, password: wrong },
      }),
    );
    assert.equal(body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assertEvent(event, {
      action: 'auth.signed_in',
      outcome: 'denied',
      tenantId: null,
      actor: { kind: 'anonymous' },
      targets: [],
      before: null,
      after: null,
    });
    assert.match(event.reason ?? '', /^UNAUTHENTICATED/);
    assertNoSecrets([event], [wrong, person.email]);
  });

  it("records a new workspace in its own trail, with the terms the audit subgraph's retention needs", async () => {
    const person = await signedIn();
    const { body, event } = await onlyEventOf(() =>
      post(
        asPerson(person, { kind: 'account' }, true),
        'mutation { createWorkspace(input: { name: "Muster AG", fiscalYearStartMonth: 7 }) { id } }',
      ),
    );
    succeeded(body);
    const tenantId = (body.data?.createWorkspace as { id: string }).id;
    assertEvent(event, {
      action: 'workspace.created',
      outcome: 'success',
      tenantId,
      actor: { kind: 'user', userId: person.userId, sessionId: person.sessionId, mfa: true },
      targets: [
        { type: 'Tenant', id: tenantId },
        { type: 'Member', id: person.userId },
      ],
      before: null,
      after: {
        name: 'Muster AG',
        plan: 'FREE',
        fiscalYearStartMonth: 7,
        subscriptionStatus: 'ACTIVE',
        subscriptionEndsAt: null,
      },
    });
  });

  it('records an API key by name and role, never its secret, and its revocation', async () => {
    const person = await signedIn();
    const tenantId = await workspace(person);
    const created = await onlyEventOf(() =>
      post(
        inWorkspace(person, tenantId, 'ADMIN', true),
        'mutation { createApiKey(input: { name: "Bank sync", role: VIEWER }) { apiKey { id } secret } }',
      ),
    );
    succeeded(created.body);
    const { apiKey, secret } = created.body.data?.createApiKey as { apiKey: { id: string }; secret: string };
    assert.deepEqual(
      {
        action: created.event.action,
        outcome: created.event.outcome,
        tenantId: created.event.tenantId,
        actor: created.event.actor,
        targets: created.event.targets,
        before: created.event.before,
        after: created.event.after,
      },
      {
        action: 'api_key.created',
        outcome: 'success',
        tenantId,
        actor: { kind: 'user', userId: person.userId, sessionId: person.sessionId, mfa: true },
        targets: [{ type: 'ApiKey', id: apiKey.id }],
        before: null,
        after: { name: 'Bank sync', role: 'VIEWER' },
      },
    );
    // Not the key, nor the random part of it that follows the prefix.
    assertNoSecrets([created.event], [secret, secret.slice(4)]);

    const revoked = await onlyEventOf(() =>
      post(inWorkspace(person, tenantId), 'mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: apiKey.id }),
    );
    succeeded(revoked.body);
    assertEvent(revoked.event, {
      action: 'api_key.revoked',
      outcome: 'success',
      tenantId,
      targets: [{ type: 'ApiKey', id: apiKey.id }],
      before: { revokedAt: null },
    });
    assertInstant(revoked.event.after?.revokedAt);

    const again = await onlyEventOf(() =>
      post(inWorkspace(person, tenantId), 'mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: apiKey.id }),
    );
    assertEvent(again.event, { action: 'api_key.revoked', outcome: 'failed', after: null });
    assert.match(again.event.reason ?? '', /^NOT_FOUND/);
  });

  it("records an invitation, its acceptance in the joined workspace's trail, and a role change before and after", async () => {
    const admin = await signedIn();
    const tenantId = await workspace(admin);
    const member = await signedIn();

    const invited = await onlyEventOf(() =>
      post(
        inWorkspace(admin, tenantId),
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
        { input: { email: member.email, role: 'VIEWER' } },
      ),
    );
    succeeded(invited.body);
    const invitationId = (invited.body.data?.inviteMember as { id: string }).id;
    assertEvent(invited.event, {
      action: 'member.invited',
      tenantId,
      targets: [{ type: 'Invitation', id: invitationId }],
      before: null,
      after: { email: maskedEmail(member.email), role: 'VIEWER' },
    });
    const invitationCode = codeIn(lastMailTo(member.email));

    // The member acts in no workspace yet: the event still belongs to the one joined.
    const accepted = await onlyEventOf(() =>
      post(asPerson(member), 'mutation ($token: String!) { acceptInvitation(token: $token) { id } }', {
        token: invitationCode,
      }),
    );
    succeeded(accepted.body);
    assertEvent(accepted.event, {
      action: 'member.invitation_accepted',
      tenantId,
      actor: { kind: 'user', userId: member.userId },
      targets: [
        { type: 'Invitation', id: invitationId },
        { type: 'Member', id: member.userId },
      ],
      after: { role: 'VIEWER', joined: true },
    });

    const changed = await onlyEventOf(() =>
      post(inWorkspace(admin, tenantId), 'mutation ($userId: ID!) { setMemberRole(userId: $userId, role: MANAGER) }', {
        userId: member.userId,
      }),
    );
    succeeded(changed.body);
    assertEvent(changed.event, {
      action: 'member.role_changed',
      outcome: 'success',
      tenantId,
      actor: { kind: 'user', userId: admin.userId },
      targets: [{ type: 'Member', id: member.userId }],
      before: { role: 'VIEWER', customRoleId: null },
      after: { role: 'MANAGER', customRoleId: null },
    });

    // A Manager may not grant Admin: refused, recorded once, by the wrapper.
    const refused = await onlyEventOf(() =>
      post(
        inWorkspace(member, tenantId, 'MANAGER'),
        'mutation ($userId: ID!) { setMemberRole(userId: $userId, role: ADMIN) }',
        { userId: member.userId },
      ),
    );
    assertEvent(refused.event, { action: 'member.role_changed', outcome: 'denied', before: null });

    assertNoSecrets(await outbox(), [member.email, admin.email, invitationCode]);
  });

  it('records a revoked session with when it ended, and a sign-out', async () => {
    const person = await signedIn();
    const second = await onlyEventOf(() =>
      post(anonymous, 'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }', {
        input: { email: person.email, password: person.password },
      }),
    );
    const otherSession = second.event.targets[1]?.id ?? '';

    const revoked = await onlyEventOf(() =>
      post(asPerson(person), 'mutation ($id: ID!) { revokeSession(id: $id) }', { id: otherSession }),
    );
    succeeded(revoked.body);
    assertEvent(revoked.event, {
      action: 'auth.session_revoked',
      outcome: 'success',
      tenantId: null,
      actor: { kind: 'user', userId: person.userId, sessionId: person.sessionId },
      targets: [{ type: 'Session', id: otherSession }],
      before: { revokedAt: null },
    });
    assertInstant(revoked.event.after?.revokedAt);

    const missing = await onlyEventOf(() =>
      post(asPerson(person), 'mutation ($id: ID!) { revokeSession(id: $id) }', { id: otherSession }),
    );
    assertEvent(missing.event, { action: 'auth.session_revoked', outcome: 'failed', targets: [] });

    const signedOut = await onlyEventOf(() => post(asPerson(person), 'mutation { signOut }'));
    succeeded(signedOut.body);
    assertEvent(signedOut.event, {
      action: 'auth.signed_out',
      targets: [{ type: 'Session', id: person.sessionId }],
      before: { revokedAt: null },
    });
  });

  it('records TOTP enrolment without the secret, and the confirming step', async () => {
    const person = await signedIn();
    const begun = await onlyEventOf(() =>
      post(asPerson(person), 'mutation { beginTotpEnrolment { secret otpauthUri } }'),
    );
    succeeded(begun.body);
    const { secret } = begun.body.data?.beginTotpEnrolment as { secret: string };
    assertEvent(begun.event, {
      action: 'mfa.totp_enrolment_started',
      tenantId: null,
      targets: [{ type: 'User', id: person.userId }],
      before: { totpPending: false },
      after: { totpPending: true },
    });

    const code = totpCode(base32Decode(secret), currentStep(clock) - 1);
    const confirmed = await onlyEventOf(() =>
      post(asPerson(person), 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', { code }),
    );
    succeeded(confirmed.body);
    assertEvent(confirmed.event, {
      action: 'mfa.totp_enrolled',
      outcome: 'success',
      targets: [
        { type: 'User', id: person.userId },
        { type: 'Session', id: person.sessionId },
      ],
      before: { totpEnabled: false },
      after: { totpEnabled: true },
    });

    const verified = await onlyEventOf(() =>
      post(asPerson(person), 'mutation ($code: String!) { verifyTotp(code: $code) }', {
        code: totpCode(base32Decode(secret), currentStep(clock)),
      }),
    );
    succeeded(verified.body);
    assertEvent(verified.event, {
      action: 'mfa.totp_verified',
      targets: [
        { type: 'User', id: person.userId },
        { type: 'Session', id: person.sessionId },
      ],
      before: { mfaAt: null },
      after: { method: 'TOTP' },
    });
    assertNoSecrets([begun.event, confirmed.event, verified.event], [secret, person.email]);
  });

  it('records the other member, role, link and second-factor mutations once each', async () => {
    const admin = await signedIn();
    const tenantId = await workspace(admin);
    const firm = await workspace(await signedIn());
    const member = await signedIn();
    succeeded(
      await post(
        inWorkspace(admin, tenantId),
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
        {
          input: { email: member.email, role: 'VIEWER' },
        },
      ),
    );
    succeeded(
      await post(asPerson(member), 'mutation ($token: String!) { acceptInvitation(token: $token) { id } }', {
        token: codeIn(lastMailTo(member.email)),
      }),
    );
    const asAdmin = inWorkspace(admin, tenantId, 'ADMIN', true);
    const call = (query: string, variables: Record<string, unknown> = {}, as: Parameters<typeof post>[0] = asAdmin) =>
      onlyEventOf(() => post(as, query, variables));

    const role = await call(
      'mutation { createCustomRole(input: { name: "Clerk", baseRole: VIEWER, addPermissions: [] }) { id } }',
    );
    succeeded(role.body);
    const customRoleId = (role.body.data?.createCustomRole as { id: string }).id;
    assertEvent(role.event, {
      action: 'custom_role.created',
      tenantId,
      targets: [{ type: 'CustomRole', id: customRoleId }],
      before: null,
      after: { name: 'Clerk', baseRole: 'VIEWER' },
    });

    const assigned = await call('mutation ($u: ID!, $r: ID!) { assignCustomRole(userId: $u, customRoleId: $r) }', {
      u: member.userId,
      r: customRoleId,
    });
    assertEvent(assigned.event, {
      action: 'member.custom_role_assigned',
      outcome: 'success',
      before: { role: 'VIEWER', customRoleId: null },
      after: { role: 'VIEWER', customRoleId, customRoleName: 'Clerk' },
    });

    const mfa = await call('mutation { setMfaRequired(required: true) { mfaRequired } }');
    assertEvent(mfa.event, {
      action: 'workspace.mfa_requirement_changed',
      targets: [{ type: 'Tenant', id: tenantId }],
      before: { mfaRequired: false },
      after: { mfaRequired: true },
    });

    const linked = await call('mutation ($f: ID!) { linkFiduciary(fiduciaryWorkspaceId: $f, role: VIEWER) }', {
      f: firm,
    });
    assertEvent(linked.event, { action: 'fiduciary.linked', tenantId, before: null, after: { role: 'VIEWER' } });
    const relinked = await call('mutation ($f: ID!) { linkFiduciary(fiduciaryWorkspaceId: $f, role: OPERATOR) }', {
      f: firm,
    });
    assertEvent(relinked.event, { before: { role: 'VIEWER' }, after: { role: 'OPERATOR' } });
    const unlinked = await call('mutation ($f: ID!) { unlinkFiduciary(fiduciaryWorkspaceId: $f) }', { f: firm });
    assertEvent(unlinked.event, {
      action: 'fiduciary.unlinked',
      tenantId,
      targets: [
        { type: 'FiduciaryLink', id: firm },
        { type: 'Tenant', id: firm },
      ],
      before: { role: 'OPERATOR' },
      after: null,
    });

    const sessions = await call('mutation ($u: ID!) { revokeMemberSessions(userId: $u) }', { u: member.userId });
    assertEvent(sessions.event, {
      action: 'member.sessions_revoked',
      targets: [
        { type: 'Member', id: member.userId },
        { type: 'Session', id: member.sessionId },
      ],
      after: { sessionsRevoked: 1 },
    });
    const removed = await call('mutation ($u: ID!) { removeMember(userId: $u) }', { u: member.userId });
    assertEvent(removed.event, {
      action: 'member.removed',
      targets: [{ type: 'Member', id: member.userId }],
      before: { role: 'VIEWER', customRoleId },
      after: null,
    });

    const generated = await call('mutation { generateRecoveryCodes }', {}, asPerson(admin, { kind: 'account' }, true));
    const codes = generated.body.data?.generateRecoveryCodes as string[];
    assertEvent(generated.event, {
      action: 'mfa.recovery_codes_generated',
      tenantId: null,
      before: { recoveryCodesRemaining: 0 },
      after: { recoveryCodesRemaining: 10 },
    });
    const recovered = await call(
      'mutation ($c: String!) { useRecoveryCode(code: $c) }',
      { c: codes[0] },
      asPerson(admin),
    );
    assertEvent(recovered.event, {
      action: 'mfa.recovery_code_used',
      outcome: 'success',
      actor: { kind: 'user', userId: admin.userId, sessionId: admin.sessionId, mfa: false },
      targets: [
        { type: 'User', id: admin.userId },
        { type: 'Session', id: admin.sessionId },
      ],
      after: { method: 'RECOVERY_CODE' },
    });

    const registration = await call('mutation { beginPasskeyRegistration }', {}, asPerson(member));
    assertEvent(registration.event, {
      action: 'mfa.passkey_registration_started',
      targets: [{ type: 'User', id: member.userId }],
      after: { challengePurpose: 'REGISTER' },
    });
    const signInChallenge = await call('mutation { beginPasskeySignIn }', {}, anonymous);
    assertEvent(signInChallenge.event, {
      action: 'auth.passkey_sign_in_started',
      actor: { kind: 'anonymous' },
      tenantId: null,
      targets: [],
      after: { challengePurpose: 'AUTHENTICATE' },
    });
    // Refused ceremonies leave the wrapper's one event each.
    for (const [query, action, as] of [
      [
        'mutation { finishPasskeyRegistration(response: "{}", name: "Key") { id } }',
        'mfa.passkey_registered',
        asPerson(member),
      ],
      ['mutation { finishPasskeySignIn(response: "{}") { mfaPending } }', 'auth.passkey_signed_in', anonymous],
      ['mutation { verifyPasskey(response: "{}") }', 'mfa.passkey_verified', asPerson(member)],
      [`mutation { revokePasskey(id: "${randomUUID()}") }`, 'mfa.passkey_revoked', asPerson(member)],
    ] as const) {
      const refused = await call(query, {}, as);
      assertEvent(refused.event, { action, outcome: 'failed', targets: [], before: null, after: null });
    }

    assertNoSecrets(await outbox(), [...codes, member.email, admin.email]);
  });

  it('records passkey registration, sign-in, step and removal without key or challenge', async () => {
    const person = await signedIn();
    const authenticator = new SoftAuthenticator();
    const creation = await onlyEventOf(() => post(asPerson(person), 'mutation { beginPasskeyRegistration }'));
    const creationOptions = creation.body.data?.beginPasskeyRegistration as string;
    const registered = await onlyEventOf(() =>
      post(
        asPerson(person),
        'mutation ($r: String!) { finishPasskeyRegistration(response: $r, name: "Laptop") { id } }',
        {
          r: authenticator.create(creationOptions),
        },
      ),
    );
    succeeded(registered.body);
    const passkeyId = (registered.body.data?.finishPasskeyRegistration as { id: string }).id;
    assertEvent(registered.event, {
      action: 'mfa.passkey_registered',
      outcome: 'success',
      targets: [
        { type: 'Passkey', id: passkeyId },
        { type: 'User', id: person.userId },
      ],
      before: null,
      after: { name: 'Laptop' },
    });

    const anonymousRequest = await onlyEventOf(() => post(anonymous, 'mutation { beginPasskeySignIn }'));
    const anonymousOptions = anonymousRequest.body.data?.beginPasskeySignIn as string;
    const passkeySignIn = await onlyEventOf(() =>
      post(anonymous, 'mutation ($r: String!) { finishPasskeySignIn(response: $r) { mfaPending } }', {
        r: authenticator.get(anonymousOptions),
      }),
    );
    succeeded(passkeySignIn.body);
    const newSession = passkeySignIn.event.targets[1]?.id ?? '';
    assertEvent(passkeySignIn.event, {
      action: 'auth.passkey_signed_in',
      outcome: 'success',
      tenantId: null,
      // A passkey with user verification is both factors: the new session starts with MFA.
      actor: { kind: 'user', userId: person.userId, sessionId: newSession, mfa: true },
      targets: [
        { type: 'User', id: person.userId },
        { type: 'Session', id: newSession },
        { type: 'Passkey', id: passkeyId },
      ],
      before: null,
      after: { authenticatedWith: 'PASSKEY', mfa: true, secondFactorPending: false },
    });

    const stepRequest = await onlyEventOf(() => post(asPerson(person), 'mutation { beginPasskeySignIn }'));
    const stepOptions = stepRequest.body.data?.beginPasskeySignIn as string;
    const step = await onlyEventOf(() =>
      post(asPerson(person), 'mutation ($r: String!) { verifyPasskey(response: $r) }', {
        r: authenticator.get(stepOptions),
      }),
    );
    succeeded(step.body);
    assertEvent(step.event, {
      action: 'mfa.passkey_verified',
      targets: [
        { type: 'User', id: person.userId },
        { type: 'Session', id: person.sessionId },
        { type: 'Passkey', id: passkeyId },
      ],
      after: { method: 'PASSKEY' },
    });

    const revoked = await onlyEventOf(() =>
      post(asPerson(person, { kind: 'account' }, true), 'mutation ($id: ID!) { revokePasskey(id: $id) }', {
        id: passkeyId,
      }),
    );
    succeeded(revoked.body);
    assertEvent(revoked.event, {
      action: 'mfa.passkey_revoked',
      targets: [
        { type: 'Passkey', id: passkeyId },
        { type: 'User', id: person.userId },
      ],
      before: { name: 'Laptop' },
      after: null,
    });

    const challenges = [creationOptions, anonymousOptions, stepOptions].map(
      (options) => (JSON.parse(options) as { challenge: string }).challenge,
    );
    const credentialId = Buffer.from(authenticator.credentialId).toString('base64url');
    assertNoSecrets(
      [creation, registered, anonymousRequest, passkeySignIn, stepRequest, step, revoked].map((call) => call.event),
      [...challenges, credentialId, person.email],
    );
  });

  it('records a password reset request and the reset, with no code and no plain address', async () => {
    const person = await signedIn();
    const requested = await onlyEventOf(() =>
      post(anonymous, 'mutation ($email: String!) { requestPasswordReset(email: $email) }', { email: person.email }),
    );
    succeeded(requested.body);
    assertEvent(requested.event, {
      action: 'account.password_reset_requested',
      tenantId: null,
      targets: [{ type: 'User', id: person.userId }],
    });
    // An address without an account changes nothing: the wrapper's bare event, naming nobody.
    const unknown = await onlyEventOf(() =>
      post(anonymous, 'mutation { requestPasswordReset(email: "nobody@example.ch") }'),
    );
    assertEvent(unknown.event, { outcome: 'success', targets: [], before: null, after: null });

    const resetCode = codeIn(lastMailTo(person.email));
    const newPassword = password();
    const reset = await onlyEventOf(() =>
      post(
        anonymous,
        'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
        {
          token: resetCode,
          password: newPassword,
        },
      ),
    );
    succeeded(reset.body);
    assertEvent(reset.event, {
      action: 'account.password_reset',
      tenantId: null,
      targets: [{ type: 'User', id: person.userId }],
      after: { sessionsRevoked: 1 },
    });
    assertNoSecrets([requested.event, unknown.event, reset.event], [resetCode, newPassword, person.email, 'nobody@']);
  });
});
