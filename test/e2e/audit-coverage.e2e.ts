import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { buildASTSchema, Kind, parse } from 'graphql';
import { base32Decode, currentStep, minimalPdf, systemClock, totpCode } from '@numezis/runtime';
import { mutationAuditActions } from '@numezis/schema';
import type { AuditedMutation } from '@numezis/schema';
import { awaitAuditEvents } from '../src/audit-trail.ts';
import type { AuditEventData } from '../src/audit-trail.ts';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import {
  addMember,
  createAccount,
  createWorkspace,
  latestCode,
  sampleAddress,
  signIn,
  signUp,
  testPassword,
  uploadDocument,
} from '../src/fixtures.ts';
import type { Person, UploadedDocument, Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';
import { SoftAuthenticator } from '@numezis/identity/passkeys/soft-authenticator';

/*
 * Issue #7, generated from the schema: every mutation of the supergraph, called once successfully,
 * leaves exactly one audit event with the catalogue's action and the right before/after, and no
 * secret of the call in any event. A refused or failed attempt leaves exactly one event too.
 */

const stack = sharedStack();

// ---------------------------------------------------------------------------------------------
// The supergraph's mutations, and the subgraph each one's event must come from.

const supergraph = buildASTSchema(
  parse(readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8')),
  { assumeValidSDL: true },
);
/** `Mutation.x` → the subgraph that resolves it (its `@join__field(graph:)`), lower case like an event's source. */
const mutationSources = new Map(
  Object.values(supergraph.getMutationType()?.getFields() ?? {}).map((field) => {
    const graph = field.astNode?.directives
      ?.find((directive) => directive.name.value === 'join__field')
      ?.arguments?.find((argument) => argument.name.value === 'graph')?.value;
    return [`Mutation.${field.name}`, graph?.kind === Kind.ENUM ? graph.value.toLowerCase() : undefined] as const;
  }),
);

// ---------------------------------------------------------------------------------------------
// Images, secrets and calls.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** In an expected image: any ISO 8601 instant in UTC. */
const anInstant = Symbol('an ISO 8601 instant');
type Expected = typeof anInstant | null | boolean | number | string | Expected[] | { [key: string]: Expected };

function assertImage(actual: Json | undefined, expected: Expected, path = 'image'): void {
  if (expected === anInstant) {
    assert.ok(typeof actual === 'string', `${path} is an instant: ${JSON.stringify(actual)}`);
    assert.match(actual, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, `${path} is an instant`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, path);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array: ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}.length: ${JSON.stringify(actual)}`);
    expected.forEach((entry, index) => assertImage(actual[index], entry, `${path}[${index}]`));
    return;
  }
  assert.ok(
    typeof actual === 'object' && actual !== null && !Array.isArray(actual),
    `${path} is an object: ${JSON.stringify(actual)}`,
  );
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${path}'s fields`);
  for (const [key, entry] of Object.entries(expected)) assertImage(actual[key], entry, `${path}.${key}`);
}

type Images = (before: Json, after: Json) => void;

/** A creation: nothing before, the created fields after. */
const created =
  (after: Expected): Images =>
  (actualBefore, actualAfter) => {
    assert.equal(actualBefore, null, 'nothing before a creation');
    assertImage(actualAfter, after, 'after');
  };

/** A deletion or revocation: the entity before, nothing after. */
const deleted =
  (before: Expected): Images =>
  (actualBefore, actualAfter) => {
    assertImage(actualBefore, before, 'before');
    assert.equal(actualAfter, null, 'nothing after a deletion');
  };

/** An update: both images of the same fields, differing in exactly `changed`. */
const updated =
  (before: { [key: string]: Expected }, changed: { [key: string]: Expected }): Images =>
  (actualBefore, actualAfter) => {
    assertImage(actualBefore, before, 'before');
    assertImage(actualAfter, { ...before, ...changed }, 'after');
    const b = actualBefore as { [key: string]: Json };
    const a = actualAfter as { [key: string]: Json };
    const differing = Object.keys(a).filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
    assert.deepEqual(differing.sort(), Object.keys(changed).sort(), 'the fields that changed');
  };

/** Both images given as they are (a change whose images name different fields). */
const images =
  (before: Expected, after: Expected): Images =>
  (actualBefore, actualAfter) => {
    assertImage(actualBefore, before, 'before');
    assertImage(actualAfter, after, 'after');
  };

/** Everything no event may contain: passwords, keys, tokens, codes, cookies, personal data in the clear. */
const secrets = new Set<string>([testPassword]);
const keepSecret = (...values: string[]) => values.forEach((value) => secrets.add(value));

function sessionToken(result: GraphQLResult<unknown>): string | undefined {
  const value = result.setCookie?.split(';')[0]?.split('=')[1];
  return value === undefined || value === '' ? undefined : value;
}

interface Called<Data> {
  readonly data: Data;
  readonly requestId: string;
  /** The session cookie the response set, if it set one. */
  readonly cookie: string | undefined;
}

/** One mutation that must succeed; every session it hands out is remembered as a secret. */
async function call<Data>(as: Caller | undefined, query: string, variables?: Record<string, unknown>) {
  const result = await graphql<Data>(stack.gatewayUrl, query, {
    ...(as === undefined ? {} : { as }),
    ...(variables === undefined ? {} : { variables }),
  });
  const token = sessionToken(result);
  if (token !== undefined) keepSecret(token);
  const data = dataOf(result);
  assert.ok(result.requestId, 'the gateway names every request');
  return {
    data,
    requestId: result.requestId,
    cookie: token === undefined ? undefined : `__Host-numezis-session=${token}`,
  } satisfies Called<Data>;
}

/** A fresh session of `person` (signed in without a cookie, so their other sessions stay). */
async function newSession(person: Person): Promise<string> {
  const result = await signIn(stack, person.email, person.password);
  dataOf(result);
  const token = sessionToken(result);
  assert.ok(token);
  keepSecret(token);
  return `__Host-numezis-session=${token}`;
}

async function sessionsOf(as: Caller): Promise<{ id: string; current: boolean }[]> {
  return dataOf(
    await graphql<{ me: { sessions: { id: string; current: boolean }[] } }>(
      stack.gatewayUrl,
      '{ me { sessions { id current } } }',
      { as },
    ),
  ).me.sessions;
}

// ---------------------------------------------------------------------------------------------
// The drivers: one successful call of each mutation, in an order in which each sets up the next.

type TrailName = 'main' | 'firm';

interface Driven {
  readonly requestId: string;
  /** The workspace the request acted in, whose trail holds its event (unless it is an account event). */
  readonly trail: TrailName;
  /** The person the event must name as the actor. */
  readonly actorId?: string;
  /** Targets the event must name (among others). */
  readonly targets?: readonly { type: string; id: string }[];
  readonly images?: Images;
}

type Driver = () => Promise<Driven>;

/**
 * Mutations whose event goes to the account trail (the nil workspace) whatever workspace the request
 * acts in: sign-up, confirmation, sign-in and password reset happen before or outside any workspace.
 * No caller can read that trail through the graph, so here their drivers act in a workspace and the
 * test proves the event is NOT in its trail (while every other mutation's is); the events themselves
 * are checked, from identity's outbox, by `subgraphs/identity/src/audit-events.test.ts`.
 */
const accountTrailMutations: readonly AuditedMutation[] = [
  'Mutation.signUp',
  'Mutation.verifyEmail',
  'Mutation.signIn',
  'Mutation.requestPasswordReset',
  'Mutation.resetPassword',
  'Mutation.finishPasskeySignIn',
];

const redactedAddress = {
  street: '[redacted]',
  buildingNumber: '[redacted]',
  postcode: '[redacted]',
  town: '[redacted]',
  country: 'CH',
};
const documentImage = (document: UploadedDocument, journalEntryId: string | null = null) => ({
  fileName: document.fileName,
  contentType: document.contentType,
  size: document.size,
  sha256: document.sha256,
  journalEntryId,
});
const maskedEmailOf = (email: string) => `${email.slice(0, 1)}***${email.slice(email.lastIndexOf('@'))}`;

// State the drivers share: the people, and what earlier drivers created.
let admin: Workspace;
let member: Workspace;
let firmOwner: Person;
let firm: Workspace | undefined;
const newcomer = {
  email: `${randomUUID()}@example.ch`,
  password: `neu-${randomUUID()}`,
  userId: '',
  cookie: '',
  invitationToken: '',
};
// The shared stack leaves identity's relying party at its defaults.
const passkey = new SoftAuthenticator({ rpId: 'localhost', origin: 'http://localhost:4000' });
const fx = {
  debit: '',
  entry: '',
  contact: '',
  employee: '',
  document: undefined as UploadedDocument | undefined,
  customRole: '',
  apiKey: '',
  totpSecret: '',
  lastTotpStep: 0,
  recoveryCodes: [] as string[],
  passkeyId: '',
  pendingSession: '',
  registrationOptions: '',
  signInOptions: '',
};
let nextAccountNumber = 9000;

const drivers: Record<AuditedMutation, Driver> = {
  // accounting
  'Mutation.createAccount': async () => {
    const { data, requestId } = await call<{ createAccount: { id: string } }>(
      admin,
      'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }',
      { input: { number: '1020', name: 'Bank', type: 'ASSET' } },
    );
    fx.debit = data.createAccount.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Account', id: fx.debit }],
      images: created({ number: '1020', name: 'Bank', type: 'ASSET' }),
    };
  },
  'Mutation.postJournalEntry': async () => {
    const credit = await createAccount(stack.gatewayUrl, admin, '3200', 'REVENUE');
    const input = {
      bookingDate: '2026-03-31',
      description: 'Rechnung 42',
      amount: '1250.50',
      debitAccountId: fx.debit,
      creditAccountId: credit,
    };
    const { data, requestId } = await call<{ postJournalEntry: { id: string } }>(
      admin,
      'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { id } }',
      { input },
    );
    fx.entry = data.postJournalEntry.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'JournalEntry', id: fx.entry }],
      images: created({ ...input, currency: 'CHF' }),
    };
  },
  'Mutation.createContact': async () => {
    keepSecret('CH9300762011623852957', '6238 5295', 'kontakt@papeterie', sampleAddress.street);
    const { data, requestId } = await call<{ createContact: { id: string } }>(
      admin,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        input: {
          kind: 'SUPPLIER',
          name: 'Papeterie Muster',
          email: 'kontakt@papeterie.ch',
          iban: 'CH93 0076 2011 6238 5295 7',
          address: sampleAddress,
        },
      },
    );
    fx.contact = data.createContact.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Contact', id: fx.contact }],
      images: created({
        kind: 'SUPPLIER',
        name: 'Papeterie Muster',
        address: redactedAddress,
        email: 'k***@papeterie.ch',
        iban: '****2957',
      }),
    };
  },
  'Mutation.updateContact': async () => {
    const { requestId } = await call(
      admin,
      'mutation ($id: ID!) { updateContact(id: $id, input: { name: "Papeterie Muster AG" }) { id } }',
      { id: fx.contact },
    );
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Contact', id: fx.contact }],
      images: updated(
        {
          kind: 'SUPPLIER',
          name: 'Papeterie Muster',
          address: redactedAddress,
          email: 'k***@papeterie.ch',
          iban: '****2957',
        },
        { name: 'Papeterie Muster AG' },
      ),
    };
  },
  'Mutation.createEmployee': async () => {
    keepSecret('9217.0769', '92170769');
    const { data, requestId } = await call<{ createEmployee: { id: string } }>(
      admin,
      'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
      { input: { name: 'Anna Muster', address: sampleAddress, ahvNumber: '756.9217.0769.85' } },
    );
    fx.employee = data.createEmployee.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Employee', id: fx.employee }],
      images: created({ name: 'Anna Muster', address: redactedAddress, ahvNumber: '756.****.****.85' }),
    };
  },
  'Mutation.updateEmployee': async () => {
    const { requestId } = await call(
      admin,
      'mutation ($id: ID!) { updateEmployee(id: $id, input: { name: "Anna Muster-Keller" }) { id } }',
      { id: fx.employee },
    );
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Employee', id: fx.employee }],
      images: updated(
        { name: 'Anna Muster', address: redactedAddress, ahvNumber: '756.****.****.85' },
        { name: 'Anna Muster-Keller' },
      ),
    };
  },

  // documents
  'Mutation.createDocumentUpload': async () => {
    const { data, requestId } = await call<{ createDocumentUpload: { uploadUrl: string } }>(
      admin,
      'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl } }',
      { input: { fileName: 'beleg-42.pdf', journalEntryId: fx.entry } },
    );
    keepSecret(data.createDocumentUpload.uploadUrl.split('/').at(-1) ?? '');
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      images: created({ fileName: 'beleg-42.pdf', journalEntryId: fx.entry, expiresAt: anInstant }),
    };
  },
  'Mutation.createDocumentDownload': async () => {
    const document = await uploadDocument(stack.gatewayUrl, admin, {
      fileName: 'quittung.pdf',
      content: minimalPdf('Quittung'),
    });
    fx.document = document;
    const { data, requestId } = await call<{ createDocumentDownload: { url: string } }>(
      admin,
      'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }',
      { id: document.id },
    );
    keepSecret(data.createDocumentDownload.url.split('/').at(-1) ?? '');
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Document', id: document.id }],
      images: created({ fileName: 'quittung.pdf', linkExpiresAt: anInstant }),
    };
  },
  'Mutation.attachDocument': async () => {
    const document = fx.document;
    assert.ok(document);
    const { requestId } = await call(
      admin,
      'mutation ($id: ID!, $entry: ID!) { attachDocument(id: $id, journalEntryId: $entry) { id } }',
      { id: document.id, entry: fx.entry },
    );
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'Document', id: document.id },
        { type: 'JournalEntry', id: fx.entry },
      ],
      images: updated(documentImage(document), { journalEntryId: fx.entry }),
    };
  },
  'Mutation.deleteDocument': async () => {
    const document = await uploadDocument(stack.gatewayUrl, admin, {
      fileName: 'entwurf.pdf',
      content: minimalPdf('Entwurf'),
    });
    const { data, requestId } = await call<{ deleteDocument: boolean }>(
      admin,
      'mutation ($id: ID!) { deleteDocument(id: $id) }',
      { id: document.id },
    );
    assert.equal(data.deleteDocument, true);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Document', id: document.id }],
      images: deleted(documentImage(document)),
    };
  },

  // identity: a newcomer signs up, joins, and resets the password, the account-level calls acting in the workspace
  'Mutation.signUp': async () => {
    keepSecret(newcomer.password, newcomer.email);
    const { data, requestId } = await call<{ signUp: boolean }>(
      member,
      'mutation ($input: SignUpInput!) { signUp(input: $input) }',
      { input: { email: newcomer.email, password: newcomer.password, displayName: 'Nina Neu' } },
    );
    assert.equal(data.signUp, true);
    return { requestId, trail: 'main' };
  },
  'Mutation.verifyEmail': async () => {
    const token = await latestCode(stack, newcomer.email);
    keepSecret(token);
    const { data, requestId } = await call<{ verifyEmail: boolean }>(
      member,
      'mutation ($token: String!) { verifyEmail(token: $token) }',
      { token },
    );
    assert.equal(data.verifyEmail, true);
    return { requestId, trail: 'main' };
  },
  'Mutation.inviteMember': async () => {
    const { data, requestId } = await call<{ inviteMember: { id: string } }>(
      admin,
      'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
      { input: { email: newcomer.email, role: 'VIEWER' } },
    );
    newcomer.invitationToken = await latestCode(stack, newcomer.email);
    keepSecret(newcomer.invitationToken);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Invitation', id: data.inviteMember.id }],
      images: created({ email: maskedEmailOf(newcomer.email), role: 'VIEWER', expiresAt: anInstant }),
    };
  },
  'Mutation.acceptInvitation': async () => {
    // The verified newcomer signs in (the confirmation worked) and joins.
    newcomer.cookie = await newSession({ ...newcomer, cookie: '' });
    const me = dataOf(
      await graphql<{ me: { user: { id: string } } }>(stack.gatewayUrl, '{ me { user { id } } }', {
        as: { cookie: newcomer.cookie },
      }),
    );
    newcomer.userId = me.me.user.id;
    const { data, requestId } = await call<{ acceptInvitation: { id: string } }>(
      { cookie: newcomer.cookie },
      'mutation ($token: String!) { acceptInvitation(token: $token) { id } }',
      { token: newcomer.invitationToken },
    );
    assert.equal(data.acceptInvitation.id, admin.workspaceId);
    return {
      requestId,
      trail: 'main',
      actorId: newcomer.userId,
      targets: [{ type: 'Member', id: newcomer.userId }],
      images: images({ acceptedAt: null }, { acceptedAt: anInstant, role: 'VIEWER', joined: true }),
    };
  },
  'Mutation.requestPasswordReset': async () => {
    const { data, requestId } = await call<{ requestPasswordReset: boolean }>(
      { cookie: newcomer.cookie, workspaceId: admin.workspaceId },
      'mutation ($email: String!) { requestPasswordReset(email: $email) }',
      { email: newcomer.email },
    );
    assert.equal(data.requestPasswordReset, true);
    return { requestId, trail: 'main' };
  },
  'Mutation.resetPassword': async () => {
    const token = await latestCode(stack, newcomer.email);
    const newPassword = `neuer-${randomUUID()}`;
    keepSecret(token, newPassword);
    const { data, requestId } = await call<{ resetPassword: boolean }>(
      { cookie: newcomer.cookie, workspaceId: admin.workspaceId },
      'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
      { token, password: newPassword },
    );
    assert.equal(data.resetPassword, true);
    // The new password works, and the session the reset came from has ended.
    await newSession({ ...newcomer, password: newPassword });
    const me = await graphql<{ me: unknown }>(stack.gatewayUrl, '{ me { user { id } } }', { as: newcomer });
    assert.equal(me.body.data?.me ?? null, null);
    return { requestId, trail: 'main' };
  },

  // identity: workspaces, fiduciary links, members and roles
  'Mutation.createWorkspace': async () => {
    const { data, requestId } = await call<{ createWorkspace: { id: string } }>(
      firmOwner,
      'mutation ($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }',
      { input: { name: 'Coverage Treuhand AG' } },
    );
    firm = { ...firmOwner, name: 'Coverage Treuhand AG', workspaceId: data.createWorkspace.id };
    return {
      requestId,
      trail: 'firm',
      actorId: firmOwner.userId,
      targets: [
        { type: 'Tenant', id: firm.workspaceId },
        { type: 'Member', id: firmOwner.userId },
      ],
      images: created({
        name: 'Coverage Treuhand AG',
        plan: 'FREE',
        fiscalYearStartMonth: 1,
        subscriptionStatus: 'ACTIVE',
        subscriptionEndsAt: null,
        mfaRequired: false,
        adminUserId: firmOwner.userId,
      }),
    };
  },
  'Mutation.linkFiduciary': async () => {
    assert.ok(firm);
    const { requestId } = await call(
      admin,
      'mutation ($firm: ID!) { linkFiduciary(fiduciaryWorkspaceId: $firm, role: VIEWER) }',
      { firm: firm.workspaceId },
    );
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'FiduciaryLink', id: firm.workspaceId },
        { type: 'Tenant', id: firm.workspaceId },
      ],
      images: created({ role: 'VIEWER' }),
    };
  },
  'Mutation.unlinkFiduciary': async () => {
    assert.ok(firm);
    const { requestId } = await call(admin, 'mutation ($firm: ID!) { unlinkFiduciary(fiduciaryWorkspaceId: $firm) }', {
      firm: firm.workspaceId,
    });
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'FiduciaryLink', id: firm.workspaceId }],
      images: deleted({ role: 'VIEWER' }),
    };
  },
  'Mutation.setMemberRole': async () => {
    const { requestId } = await call(admin, 'mutation ($user: ID!) { setMemberRole(userId: $user, role: OPERATOR) }', {
      user: member.userId,
    });
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Member', id: member.userId }],
      images: updated({ role: 'VIEWER', customRoleId: null }, { role: 'OPERATOR' }),
    };
  },
  'Mutation.createCustomRole': async () => {
    const { data, requestId } = await call<{ createCustomRole: { id: string } }>(
      admin,
      'mutation ($input: CreateCustomRoleInput!) { createCustomRole(input: $input) { id } }',
      { input: { name: 'Revisorin', baseRole: 'VIEWER', addPermissions: ['AUDIT_READ'] } },
    );
    fx.customRole = data.createCustomRole.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'CustomRole', id: fx.customRole }],
      images: created({
        name: 'Revisorin',
        baseRole: 'VIEWER',
        addedPermissions: ['audit.read'],
        removedPermissions: [],
      }),
    };
  },
  'Mutation.assignCustomRole': async () => {
    const { requestId } = await call(
      admin,
      'mutation ($user: ID!, $role: ID!) { assignCustomRole(userId: $user, customRoleId: $role) }',
      { user: member.userId, role: fx.customRole },
    );
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'Member', id: member.userId },
        { type: 'CustomRole', id: fx.customRole },
      ],
      images: images(
        { role: 'OPERATOR', customRoleId: null },
        { role: 'VIEWER', customRoleId: fx.customRole, customRoleName: 'Revisorin' },
      ),
    };
  },
  'Mutation.removeMember': async () => {
    const { requestId } = await call(admin, 'mutation ($user: ID!) { removeMember(userId: $user) }', {
      user: newcomer.userId,
    });
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Member', id: newcomer.userId }],
      images: deleted({ role: 'VIEWER', customRoleId: null }),
    };
  },

  // identity: sessions (the member's, acting in the workspace)
  'Mutation.revokeSession': async () => {
    const second: Workspace = { ...member, cookie: await newSession(member) };
    const first = (await sessionsOf(second)).find((session) => !session.current);
    assert.ok(first, 'the member has a session besides the new one');
    const { data, requestId } = await call<{ revokeSession: boolean }>(
      second,
      'mutation ($id: ID!) { revokeSession(id: $id) }',
      { id: first.id },
    );
    assert.equal(data.revokeSession, true);
    member = second;
    return {
      requestId,
      trail: 'main',
      actorId: member.userId,
      targets: [{ type: 'Session', id: first.id }],
      images: updated({ revokedAt: null }, { revokedAt: anInstant }),
    };
  },
  'Mutation.revokeMemberSessions': async () => {
    const [session] = await sessionsOf(member);
    assert.ok(session);
    const { data, requestId } = await call<{ revokeMemberSessions: number }>(
      admin,
      'mutation ($user: ID!) { revokeMemberSessions(userId: $user) }',
      { user: member.userId },
    );
    assert.equal(data.revokeMemberSessions, 1);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'Member', id: member.userId },
        { type: 'Session', id: session.id },
      ],
      images: created({ revokedAt: anInstant, sessionsRevoked: 1 }),
    };
  },
  'Mutation.signOut': async () => {
    member = { ...member, cookie: await newSession(member) };
    const [session] = await sessionsOf(member);
    assert.ok(session);
    const { data, requestId } = await call<{ signOut: boolean }>(member, 'mutation { signOut }');
    assert.equal(data.signOut, true);
    return {
      requestId,
      trail: 'main',
      actorId: member.userId,
      targets: [{ type: 'Session', id: session.id }],
      images: updated({ revokedAt: null }, { revokedAt: anInstant }),
    };
  },

  // identity: the Admin's second factors, API keys and recovery codes
  'Mutation.beginTotpEnrolment': async () => {
    const { data, requestId } = await call<{ beginTotpEnrolment: { secret: string } }>(
      admin,
      'mutation { beginTotpEnrolment { secret } }',
    );
    fx.totpSecret = data.beginTotpEnrolment.secret;
    keepSecret(fx.totpSecret);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: updated({ totpPending: false }, { totpPending: true }),
    };
  },
  'Mutation.confirmTotpEnrolment': async () => {
    // The code of the step before, so a code of the current step verifies right after.
    const confirm = (step: number) =>
      graphql(stack.gatewayUrl, 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', {
        as: admin,
        variables: { code: totpCode(base32Decode(fx.totpSecret), step) },
      });
    fx.lastTotpStep = currentStep(systemClock) - 1;
    let result = await confirm(fx.lastTotpStep);
    if (result.body.errors !== undefined) {
      // The step turned between computing the code and the check: the current one then.
      fx.lastTotpStep = currentStep(systemClock);
      result = await confirm(fx.lastTotpStep);
    }
    assert.equal(dataOf(result).confirmTotpEnrolment, true);
    const token = sessionToken(result);
    assert.ok(token);
    assert.ok(result.requestId);
    keepSecret(token);
    admin = { ...admin, cookie: `__Host-numezis-session=${token}` };
    const [session] = (await sessionsOf(admin)).filter((entry) => entry.current);
    return {
      requestId: result.requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'User', id: admin.userId },
        ...(session === undefined ? [] : [{ type: 'Session', id: session.id }]),
      ],
      images: updated({ totpEnabled: false, totpPending: true }, { totpEnabled: true, totpPending: false }),
    };
  },
  'Mutation.createApiKey': async () => {
    const { data, requestId } = await call<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      admin,
      'mutation { createApiKey(input: { name: "Treuhand-Export", role: VIEWER }) { secret apiKey { id } } }',
    );
    keepSecret(data.createApiKey.secret);
    fx.apiKey = data.createApiKey.apiKey.id;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'ApiKey', id: fx.apiKey }],
      images: created({ name: 'Treuhand-Export', role: 'VIEWER' }),
    };
  },
  'Mutation.revokeApiKey': async () => {
    const { requestId } = await call(admin, 'mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: fx.apiKey });
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'ApiKey', id: fx.apiKey }],
      images: updated({ name: 'Treuhand-Export', role: 'VIEWER', revokedAt: null }, { revokedAt: anInstant }),
    };
  },
  'Mutation.generateRecoveryCodes': async () => {
    const { data, requestId } = await call<{ generateRecoveryCodes: string[] }>(
      admin,
      'mutation { generateRecoveryCodes }',
    );
    fx.recoveryCodes = data.generateRecoveryCodes;
    assert.equal(fx.recoveryCodes.length, 10);
    keepSecret(...fx.recoveryCodes, ...fx.recoveryCodes.map((code) => code.replaceAll('-', '')));
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: updated({ recoveryCodesRemaining: 0 }, { recoveryCodesRemaining: 10 }),
    };
  },
  'Mutation.setMfaRequired': async () => {
    const { data, requestId } = await call<{ setMfaRequired: { mfaRequired: boolean } }>(
      admin,
      'mutation { setMfaRequired(required: true) { mfaRequired } }',
    );
    assert.equal(data.setMfaRequired.mfaRequired, true);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'Tenant', id: admin.workspaceId }],
      images: updated({ mfaRequired: false }, { mfaRequired: true }),
    };
  },
  'Mutation.beginPasskeyRegistration': async () => {
    const { data, requestId } = await call<{ beginPasskeyRegistration: string }>(
      admin,
      'mutation { beginPasskeyRegistration }',
    );
    const options = data.beginPasskeyRegistration;
    keepSecret((JSON.parse(options) as { challenge: string }).challenge);
    fx.registrationOptions = options;
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: created({ challengePurpose: 'REGISTER', expiresAt: anInstant }),
    };
  },
  'Mutation.finishPasskeyRegistration': async () => {
    const { data, requestId, cookie } = await call<{ finishPasskeyRegistration: { id: string; name: string } }>(
      admin,
      'mutation ($response: String!) { finishPasskeyRegistration(response: $response, name: "Laptop") { id name } }',
      { response: passkey.create(fx.registrationOptions) },
    );
    assert.equal(data.finishPasskeyRegistration.name, 'Laptop');
    fx.passkeyId = data.finishPasskeyRegistration.id;
    assert.ok(cookie);
    admin = { ...admin, cookie };
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'Passkey', id: fx.passkeyId },
        { type: 'User', id: admin.userId },
      ],
      images: created({ name: 'Laptop', transports: ['internal'], createdAt: anInstant }),
    };
  },
  'Mutation.signIn': async () => {
    // Signing in again from the session in the workspace: the new session awaits the second factor.
    const { data, requestId, cookie } = await call<{ signIn: { mfaPending: boolean } }>(
      admin,
      'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }',
      { input: { email: admin.email, password: admin.password } },
    );
    assert.equal(data.signIn.mfaPending, true);
    assert.ok(cookie);
    admin = { ...admin, cookie };
    return { requestId, trail: 'main' };
  },
  'Mutation.verifyTotp': async () => {
    // A code is good once: wait for a step after the one the enrolment used.
    while (currentStep(systemClock) <= fx.lastTotpStep) await sleep(250);
    const { data, requestId, cookie } = await call<{ verifyTotp: boolean }>(
      admin,
      'mutation ($code: String!) { verifyTotp(code: $code) }',
      { code: totpCode(base32Decode(fx.totpSecret), currentStep(systemClock)) },
    );
    assert.equal(data.verifyTotp, true);
    assert.ok(cookie);
    admin = { ...admin, cookie };
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: images({ mfaAt: null }, { mfaAt: anInstant, method: 'TOTP' }),
    };
  },
  'Mutation.useRecoveryCode': async () => {
    const pending: Caller = { cookie: await newSession(admin), workspaceId: admin.workspaceId };
    const { data, requestId } = await call<{ useRecoveryCode: boolean }>(
      pending,
      'mutation ($code: String!) { useRecoveryCode(code: $code) }',
      { code: fx.recoveryCodes[0] },
    );
    assert.equal(data.useRecoveryCode, true);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: images({ mfaAt: null }, { mfaAt: anInstant, method: 'RECOVERY_CODE' }),
    };
  },
  'Mutation.beginPasskeySignIn': async () => {
    // The passkey step of a password sign-in: a signed-in session, in the workspace, asks.
    fx.pendingSession = await newSession(admin);
    const { data, requestId } = await call<{ beginPasskeySignIn: string }>(
      { cookie: fx.pendingSession, workspaceId: admin.workspaceId },
      'mutation { beginPasskeySignIn }',
    );
    fx.signInOptions = data.beginPasskeySignIn;
    keepSecret((JSON.parse(fx.signInOptions) as { challenge: string }).challenge);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [{ type: 'User', id: admin.userId }],
      images: created({ challengePurpose: 'AUTHENTICATE', expiresAt: anInstant }),
    };
  },
  'Mutation.verifyPasskey': async () => {
    const { data, requestId } = await call<{ verifyPasskey: boolean }>(
      { cookie: fx.pendingSession, workspaceId: admin.workspaceId },
      'mutation ($response: String!) { verifyPasskey(response: $response) }',
      { response: passkey.get(fx.signInOptions) },
    );
    assert.equal(data.verifyPasskey, true);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'User', id: admin.userId },
        { type: 'Passkey', id: fx.passkeyId },
      ],
      images: images({ mfaAt: null }, { mfaAt: anInstant, method: 'PASSKEY' }),
    };
  },
  'Mutation.finishPasskeySignIn': async () => {
    const options = (await call<{ beginPasskeySignIn: string }>(admin, 'mutation { beginPasskeySignIn }')).data
      .beginPasskeySignIn;
    const { data, requestId, cookie } = await call<{ finishPasskeySignIn: { mfaPending: boolean } }>(
      admin,
      'mutation ($response: String!) { finishPasskeySignIn(response: $response) { mfaPending } }',
      { response: passkey.get(options) },
    );
    assert.equal(data.finishPasskeySignIn.mfaPending, false);
    assert.ok(cookie);
    admin = { ...admin, cookie };
    return { requestId, trail: 'main' };
  },
  'Mutation.revokePasskey': async () => {
    const { data, requestId } = await call<{ revokePasskey: boolean }>(
      admin,
      'mutation ($id: ID!) { revokePasskey(id: $id) }',
      { id: fx.passkeyId },
    );
    assert.equal(data.revokePasskey, true);
    return {
      requestId,
      trail: 'main',
      actorId: admin.userId,
      targets: [
        { type: 'Passkey', id: fx.passkeyId },
        { type: 'User', id: admin.userId },
      ],
      images: deleted({ name: 'Laptop' }),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Reading a trail: everything up to a later event of each service, so nothing earlier is still underway.

/** One change per service in the workspace; each service relays its events in order. */
async function sentinels(as: Caller): Promise<string[]> {
  const requests = [
    call(as, 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }', {
      input: { number: String(++nextAccountNumber), name: 'Sentinel', type: 'EXPENSE' },
    }),
    call(as, 'mutation ($input: CreateCustomRoleInput!) { createCustomRole(input: $input) { id } }', {
      input: { name: `Sentinel ${randomUUID()}`, baseRole: 'VIEWER' },
    }),
    call(as, 'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl } }', {
      input: { fileName: 'sentinel.pdf' },
    }),
  ];
  return (await Promise.all(requests)).map((request) => request.requestId);
}

/** The whole trail of `reader`'s workspace, once the events of `requestIds` and of later sentinels arrived. */
async function trailOf(reader: Caller, requestIds: readonly string[] = []): Promise<AuditEventData[]> {
  const awaited = [...requestIds, ...(await sentinels(reader))];
  return awaitAuditEvents(stack.gatewayUrl, reader, (seen) =>
    awaited.every((id) => seen.some((event) => event.requestId === id)),
  );
}

const parseImage = (text: string | null): Json => (text === null ? null : (JSON.parse(text) as Json));

function assertNoSecrets(events: readonly AuditEventData[]): void {
  for (const event of events) {
    const text = JSON.stringify(event);
    for (const value of secrets) {
      assert.ok(value === '' || !text.includes(value), `event ${event.action} (#${event.sequence}) holds a secret`);
    }
  }
}

describe('every mutation of the supergraph leaves exactly one audit event', () => {
  const driven = new Map<AuditedMutation, Driven>();

  before(async () => {
    admin = await createWorkspace(stack, 'Audit Coverage AG');
    member = await addMember(stack, admin, 'VIEWER');
    firmOwner = await signUp(stack, 'Owner of Coverage Treuhand AG');
    for (const person of [admin, member, firmOwner]) keepSecret(person.cookie.split('=')[1] ?? '');
  });

  it('has a driver for each mutation of the supergraph, and none for a mutation it lacks', () => {
    const mutations = [...mutationSources.keys()].sort();
    assert.ok(mutations.length > 30, 'the supergraph has its mutations');
    assert.deepEqual(Object.keys(drivers).sort(), mutations);
    assert.deepEqual(Object.keys(mutationAuditActions).sort(), mutations, 'the catalogue names each one');
    for (const [mutation, source] of mutationSources) assert.ok(source, `${mutation} names its subgraph`);
  });

  it('lists as account-trail mutations only mutations identity tests from its outbox', () => {
    const unitTest = readFileSync(
      new URL('../../subgraphs/identity/src/audit-events.test.ts', import.meta.url),
      'utf8',
    );
    for (const mutation of accountTrailMutations) {
      assert.ok(mutationSources.get(mutation) === 'identity', `${mutation} is an identity mutation`);
      const field = mutation.slice('Mutation.'.length);
      assert.ok(unitTest.includes(`${field}(`), `${mutation} is driven by identity's audit-events.test.ts`);
    }
  });

  for (const [mutation, drive] of Object.entries(drivers) as [AuditedMutation, Driver][]) {
    it(`calls ${mutation}`, async () => {
      driven.set(mutation, await drive());
    });
  }

  describe('the events', () => {
    const trails = new Map<TrailName, AuditEventData[]>();

    before(async () => {
      assert.ok(firm, 'createWorkspace made the firm');
      const [main, firmTrail] = await Promise.all([trailOf(admin), trailOf(firm)]);
      trails.set('main', main);
      trails.set('firm', firmTrail);
    });

    for (const mutation of Object.keys(drivers) as AuditedMutation[]) {
      const toAccount = accountTrailMutations.includes(mutation);
      const title = toAccount
        ? `${mutation}: no event in the trail of the workspace it acted in (the account trail's)`
        : `${mutation}: one ${mutationAuditActions[mutation].action} event with its before and after`;
      it(title, () => {
        const done = driven.get(mutation);
        assert.ok(done, `${mutation} was not called (see its driver's failure)`);
        const events = (trails.get(done.trail) ?? []).filter((event) => event.requestId === done.requestId);
        if (toAccount) {
          assert.deepEqual(events, [], `${mutation} left its event in the workspace's trail`);
          return;
        }
        assert.equal(events.length, 1, `exactly one event: ${JSON.stringify(events, null, 1)}`);
        const [event] = events;
        assert.ok(event);
        const spec = mutationAuditActions[mutation];
        assert.deepEqual(
          {
            action: event.action,
            source: event.source,
            outcome: event.outcome,
            reason: event.reason,
            retention: event.retention,
          },
          {
            action: spec.action,
            source: mutationSources.get(mutation),
            outcome: 'SUCCESS',
            reason: null,
            retention: spec.retention.toUpperCase(),
          },
        );
        if (done.actorId !== undefined) {
          assert.equal(event.performedBy.kind, 'USER');
          assert.equal(event.performedBy.id, done.actorId, 'the actor');
        }
        for (const target of done.targets ?? []) {
          assert.ok(
            event.targets.some((named) => named.type === target.type && named.id === target.id),
            `targets ${target.type} ${target.id}: ${JSON.stringify(event.targets)}`,
          );
        }
        done.images?.(parseImage(event.before), parseImage(event.after));
      });
    }

    it('holds no password, key, token, code, cookie or personal data in the clear, in any event', () => {
      assert.ok(secrets.size > 30);
      for (const events of trails.values()) assertNoSecrets(events);
    });
  });
});

describe('refused and failed mutations leave exactly one event each', () => {
  it('records a failed attempt as FAILED and a viewer refused as DENIED, by the subgraph or the gateway', async () => {
    const owner = await createWorkspace(stack, 'Audit Refusals AG');
    const viewer = await addMember(stack, owner, 'VIEWER');
    const unknownId = randomUUID();
    const attempt = async (mutation: AuditedMutation, as: Caller, query: string, variables = {}) => {
      const result = await graphql(stack.gatewayUrl, query, { as, variables });
      assert.ok(result.body.errors?.length, `${mutation} was refused: ${result.text}`);
      assert.ok(result.requestId);
      return { mutation, requestId: result.requestId, code: errorCode(result) };
    };
    const createAccountQuery = 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }';
    const inviteQuery = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { id } }';
    const deleteQuery = 'mutation ($id: ID!) { deleteDocument(id: $id) }';
    const failed = [
      await attempt('Mutation.createAccount', owner, createAccountQuery, {
        input: { number: 'not a number', name: 'Bad', type: 'ASSET' },
      }),
      await attempt('Mutation.inviteMember', owner, inviteQuery, {
        input: { email: 'not-an-address', role: 'VIEWER' },
      }),
      await attempt('Mutation.deleteDocument', owner, deleteQuery, { id: unknownId }),
    ];
    const denied = [
      await attempt('Mutation.createAccount', viewer, createAccountQuery, {
        input: { number: '7777', name: 'Refused', type: 'EXPENSE' },
      }),
      await attempt('Mutation.inviteMember', viewer, inviteQuery, {
        input: { email: `${randomUUID()}@example.ch`, role: 'VIEWER' },
      }),
      await attempt('Mutation.deleteDocument', viewer, deleteQuery, { id: unknownId }),
      // Past the gateway (an Admin may), refused by identity: a key needs a recent second factor.
      await attempt(
        'Mutation.createApiKey',
        owner,
        'mutation { createApiKey(input: { name: "X", role: VIEWER }) { secret } }',
      ),
    ];
    const events = await trailOf(
      owner,
      [...failed, ...denied].map((entry) => entry.requestId),
    );
    const only = (requestId: string) => {
      const ofRequest = events.filter((event) => event.requestId === requestId);
      assert.equal(ofRequest.length, 1, `exactly one event: ${JSON.stringify(ofRequest, null, 1)}`);
      return ofRequest[0] as AuditEventData;
    };
    for (const { mutation, requestId, code } of failed) {
      const event = only(requestId);
      assert.deepEqual(
        [event.action, event.source, event.outcome, event.before, event.after],
        [mutationAuditActions[mutation].action, mutationSources.get(mutation), 'FAILED', null, null],
        mutation,
      );
      assert.match(event.reason ?? '', new RegExp(`^${String(code)}`), `${mutation}: the reason names the error`);
      assert.equal(event.performedBy.id, owner.userId);
    }
    for (const { mutation, requestId } of denied) {
      const event = only(requestId);
      const expected =
        event.source === 'gateway'
          ? ['gateway.operation_refused', 'gateway']
          : [mutationAuditActions[mutation].action, mutationSources.get(mutation)];
      assert.deepEqual([event.action, event.source, event.outcome], [...expected, 'DENIED'], mutation);
      assert.match(event.reason ?? '', /^(FORBIDDEN|UNAUTHENTICATED)/, mutation);
    }
    assert.equal(only(denied[3]?.requestId ?? '').source, 'identity', 'the step-up refusal comes from identity');
    assertNoSecrets(events);
  });
});
