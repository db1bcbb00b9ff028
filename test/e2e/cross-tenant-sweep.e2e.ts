import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import {
  buildASTSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  parse,
} from 'graphql';
import type { GraphQLArgument, GraphQLField, GraphQLInputType, GraphQLSchema } from 'graphql';

import { dataOf, graphql, send } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import {
  addMember,
  createAccount,
  createContact,
  createEmployee,
  createWorkspace,
  enrolTotp,
  minimalPdf,
  postEntryWithReceipt,
  uploadDocument,
} from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const supergraphFile = new URL('../../schema/supergraph.graphql', import.meta.url);

/** What workspace B owns that A will ask for by id. */
interface Victim {
  readonly workspaceId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly entryId: string;
  readonly documentId: string;
  readonly accountIds: readonly [string, string];
  readonly apiKeyId: string;
  readonly customRoleId: string;
  readonly contactId: string;
  readonly employeeId: string;
}

/**
 * For every ID argument of a root field (`Type.field.arg` or `Type.field.arg.inputField`): which
 * of B's ids to send. A new root field with an ID argument fails the coverage test until it is
 * listed here or among the exemptions.
 */
const idSources: Record<string, (victim: Victim) => string> = {
  'Query.journalEntry.id': (v) => v.entryId,
  'Query.document.id': (v) => v.documentId,
  'Mutation.createDocumentDownload.id': (v) => v.documentId,
  'Mutation.attachDocument.id': (v) => v.documentId,
  'Mutation.attachDocument.journalEntryId': (v) => v.entryId,
  'Mutation.deleteDocument.id': (v) => v.documentId,
  'Query.contact.id': (v) => v.contactId,
  'Query.employee.id': (v) => v.employeeId,
  'Mutation.updateContact.id': (v) => v.contactId,
  'Mutation.updateEmployee.id': (v) => v.employeeId,
  'Mutation.revokeSession.id': (v) => v.sessionId,
  'Mutation.revokeApiKey.id': (v) => v.apiKeyId,
  'Mutation.setMemberRole.userId': (v) => v.userId,
  'Mutation.removeMember.userId': (v) => v.userId,
  'Mutation.revokeMemberSessions.userId': (v) => v.userId,
  'Mutation.assignCustomRole.userId': (v) => v.userId,
  'Mutation.assignCustomRole.customRoleId': (v) => v.customRoleId,
  'Mutation.unlinkFiduciary.fiduciaryWorkspaceId': (v) => v.workspaceId,
  'Mutation.postJournalEntry.input.debitAccountId': (v) => v.accountIds[0],
  'Mutation.postJournalEntry.input.creditAccountId': (v) => v.accountIds[1],
};

/** ID arguments deliberately outside the sweep, each with the reason. */
const exemptions: Record<string, string> = {
  'Mutation.linkFiduciary.fiduciaryWorkspaceId':
    "naming another workspace is the point: it lets that firm's staff into the caller's own workspace",
  'Mutation.createDocumentUpload.input.journalEntryId':
    'documents cannot see accounting: a foreign or unknown entry id is stored alike and never resolves (checked below)',
  'Mutation.revokePasskey.id':
    "passkeys need a browser to exist; another person's passkey id is covered in passkeys.e2e.ts",
};

/** Valid values for the other arguments, so the id is what decides the answer. */
const argumentValues: Record<string, Record<string, unknown>> = {
  'Mutation.postJournalEntry': {
    input: { bookingDate: '2026-06-30', description: 'Sweep', amount: '1.00', currency: 'CHF' },
  },
  'Mutation.setMemberRole': { role: 'VIEWER' },
};

interface Probe {
  readonly coordinate: string;
  readonly operation: 'query' | 'mutation';
  readonly field: GraphQLField<unknown, unknown>;
  readonly idPaths: readonly string[];
}

function idPathsOf(type: GraphQLInputType, path: string): string[] {
  const named = getNamedType(type);
  if (named.name === 'ID') return [path];
  if (isInputObjectType(named)) {
    return Object.values(named.getFields()).flatMap((field) => idPathsOf(field.type, `${path}.${field.name}`));
  }
  return [];
}

function probesOf(schema: GraphQLSchema): Probe[] {
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const;
  return roots.flatMap(([operation, type]) =>
    Object.values(type?.getFields() ?? {})
      .filter((field) => !field.name.startsWith('_'))
      .map((field) => ({
        coordinate: `${type?.name ?? ''}.${field.name}`,
        operation,
        field,
        idPaths: field.args.flatMap((arg) => idPathsOf(arg.type, `${type?.name ?? ''}.${field.name}.${arg.name}`)),
      }))
      .filter((probe) => probe.idPaths.length > 0),
  );
}

/** A value of the argument's type: ids from `idFor`, the rest valid samples or given values. */
function sample(type: GraphQLInputType, path: string, given: unknown, idFor: (path: string) => string): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [];
  const named = getNamedType(inner);
  if (named.name === 'ID') return idFor(path);
  if (given !== undefined && !isInputObjectType(named)) return given;
  if (isEnumType(named)) return named.getValues()[0]?.value;
  if (isInputObjectType(named)) {
    const values = (given ?? {}) as Record<string, unknown>;
    return Object.fromEntries(
      Object.values(named.getFields())
        .filter(
          (field) =>
            isNonNullType(field.type) || values[field.name] !== undefined || idPathsOf(field.type, '').length > 0,
        )
        .map((field) => [field.name, sample(field.type, `${path}.${field.name}`, values[field.name], idFor)]),
    );
  }
  if (named.name === 'Int') return 1;
  if (named.name === 'Boolean') return false;
  return 'sweep';
}

function documentFor(
  probe: Probe,
  idFor: (path: string) => string,
): { query: string; variables: Record<string, unknown> } {
  const given = argumentValues[probe.coordinate] ?? {};
  const args: readonly GraphQLArgument[] = probe.field.args;
  const variables = Object.fromEntries(
    args.map((arg) => [arg.name, sample(arg.type, `${probe.coordinate}.${arg.name}`, given[arg.name], idFor)]),
  );
  const declarations = args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const passing = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isLeafType(getNamedType(getNullableType(probe.field.type))) ? '' : ' { __typename }';
  return {
    query: `${probe.operation} (${declarations}) { ${probe.field.name}(${passing})${selection} }`,
    variables,
  };
}

/** The answer without what differs between any two requests: the request id. */
function normalised(result: GraphQLResult): unknown {
  return {
    status: result.status,
    data: result.body.data,
    errors: result.body.errors?.map(({ extensions, ...error }) => {
      const rest = { ...extensions };
      delete rest.requestId;
      return { ...error, extensions: rest };
    }),
  };
}

const victimIds = (v: Victim): string[] => [
  v.workspaceId,
  v.userId,
  v.sessionId,
  v.entryId,
  v.documentId,
  ...v.accountIds,
  v.apiKeyId,
  v.customRoleId,
  v.contactId,
  v.employeeId,
];

const snapshotQuery = `{
  journalEntries { id amount debitAccount { id } }
  documents { id journalEntry { id } }
  accounts { id number }
  contacts { id name updatedAt }
  employees { id name }
  apiKeys { id }
  workspace { members { user { id } role customRole { id } } customRoles { id permissions } fiduciaryLinks { fiduciaryWorkspaceId } }
}`;

describe('cross-tenant sweep, generated from the supergraph', () => {
  let schema: GraphQLSchema;
  let attacker: Caller;
  let victimAdmin: Workspace;
  let victim: Victim;

  before(async () => {
    schema = buildASTSchema(parse(await readFile(supergraphFile, 'utf8')), { assumeValidSDL: true });
    attacker = await enrolTotp(stack, await createWorkspace(stack, 'Angreifer AG'));
    victimAdmin = await enrolTotp(stack, await createWorkspace(stack, 'Opfer AG'));
    const member = await addMember(stack, victimAdmin, 'VIEWER');
    const { entryId, documentId } = await postEntryWithReceipt(stack.gatewayUrl, victimAdmin);
    const accountIds = [
      await createAccount(stack.gatewayUrl, victimAdmin, '1000'),
      await createAccount(stack.gatewayUrl, victimAdmin, '1010'),
    ] as const;
    const { createApiKey } = dataOf(
      await graphql<{ createApiKey: { apiKey: { id: string } } }>(
        stack.gatewayUrl,
        'mutation { createApiKey(input: { name: "B", role: VIEWER }) { apiKey { id } } }',
        { as: victimAdmin },
      ),
    );
    const { createCustomRole } = dataOf(
      await graphql<{ createCustomRole: { id: string } }>(
        stack.gatewayUrl,
        'mutation { createCustomRole(input: { name: "B", baseRole: VIEWER }) { id } }',
        { as: victimAdmin },
      ),
    );
    const { me } = dataOf(
      await graphql<{ me: { sessions: { id: string; current: boolean }[] } }>(
        stack.gatewayUrl,
        '{ me { sessions { id current } } }',
        {
          as: member,
        },
      ),
    );
    victim = {
      workspaceId: victimAdmin.workspaceId,
      userId: member.userId,
      sessionId: me.sessions.find((session) => session.current)?.id ?? '',
      entryId,
      documentId,
      accountIds,
      apiKeyId: createApiKey.apiKey.id,
      customRoleId: createCustomRole.id,
      contactId: await createContact(stack.gatewayUrl, victimAdmin, {
        name: 'Lieferant von B',
        iban: 'CH93 0076 2011 6238 5295 7',
      }),
      employeeId: await createEmployee(stack.gatewayUrl, victimAdmin, {
        name: 'Angestellte von B',
        ahvNumber: '756.9217.0769.85',
      }),
    };
  });

  it('covers every root field that takes an id', () => {
    const paths = probesOf(schema).flatMap((probe) => probe.idPaths);
    const missing = paths.filter((path) => idSources[path] === undefined && exemptions[path] === undefined);
    assert.deepEqual(missing, [], 'add each to idSources (or, with a reason, to exemptions)');
    const stale = [...Object.keys(idSources), ...Object.keys(exemptions)].filter((path) => !paths.includes(path));
    assert.deepEqual(stale, [], 'these no longer exist in the supergraph');
  });

  it("answers another workspace's ids exactly like ids that do not exist, and changes nothing there", async () => {
    const before = dataOf(await graphql(stack.gatewayUrl, snapshotQuery, { as: victimAdmin }));
    for (const probe of probesOf(schema)) {
      if (probe.idPaths.every((path) => exemptions[path] !== undefined)) continue;
      const foreign = documentFor(probe, (path) => idSources[path]?.(victim) ?? randomUUID());
      const missing = documentFor(probe, () => randomUUID());
      const asForeign = await graphql(stack.gatewayUrl, foreign.query, { as: attacker, variables: foreign.variables });
      const asMissing = await graphql(stack.gatewayUrl, missing.query, { as: attacker, variables: missing.variables });
      assert.deepEqual(normalised(asForeign), normalised(asMissing), `${probe.coordinate} tells B's ids apart`);
      const fieldValue = asForeign.body.data?.[probe.field.name];
      if (probe.operation === 'query') {
        assert.equal(fieldValue ?? null, null, `${probe.coordinate}: ${asForeign.text}`);
      } else {
        assert.equal(
          asForeign.body.errors?.[0]?.extensions?.code,
          'NOT_FOUND',
          `${probe.coordinate}: ${asForeign.text}`,
        );
      }
      for (const id of victimIds(victim)) {
        assert.ok(!asForeign.text.includes(id), `${probe.coordinate} answered with one of B's ids`);
      }
    }
    const after = dataOf(await graphql(stack.gatewayUrl, snapshotQuery, { as: victimAdmin }));
    assert.deepEqual(after, before);
  });

  it("answers another workspace's upload ticket and download link exactly like missing ones", async () => {
    const { createDocumentUpload, createDocumentDownload } = dataOf(
      await graphql<{ createDocumentUpload: { uploadUrl: string }; createDocumentDownload: { url: string } }>(
        stack.gatewayUrl,
        'mutation ($id: ID!) { createDocumentUpload(input: { fileName: "b.pdf" }) { uploadUrl } createDocumentDownload(id: $id) { url } }',
        { as: victimAdmin, variables: { id: victim.documentId } },
      ),
    );
    const content = minimalPdf('Sweep');
    for (const url of [createDocumentUpload.uploadUrl, createDocumentDownload.url]) {
      const [, kind = '', , ticket = ''] = url.split('/');
      const call = (as: Caller, workspaceId: string, presented: string) =>
        send(new URL(`/${kind}/${workspaceId}/${presented}`, stack.gatewayUrl).href, {
          method: kind === 'uploads' ? 'PUT' : 'GET',
          headers: { cookie: as.cookie },
          ...(kind === 'uploads' ? { body: content } : {}),
        });
      const unknown = 'A'.repeat(43);
      // In the attacker's own workspace, and in B's, which the URL names and the attacker is no member of.
      for (const workspaceId of [attacker.workspaceId ?? '', victim.workspaceId]) {
        const asForeign = await call(attacker, workspaceId, ticket);
        const asMissing = await call(attacker, workspaceId, unknown);
        assert.deepEqual(normalised(asForeign), normalised(asMissing), `${kind} tells B's tickets apart`);
        assert.ok([401, 404].includes(asForeign.status), asForeign.text);
      }
      // Presented and refused, B's ticket still works for B.
      const own = await call(victimAdmin, victim.workspaceId, ticket);
      assert.equal(own.status, kind === 'uploads' ? 201 : 200, own.text);
    }
  });

  it("stores a document against another workspace's entry exactly like an unknown entry, never linking them", async () => {
    // A field accounting owns, so the reference must really resolve (a bare id never leaves the gateway).
    const entryOf = async (id: string) =>
      dataOf(
        await graphql<{ document: { journalEntry: { description: string } | null } | null }>(
          stack.gatewayUrl,
          'query ($id: ID!) { document(id: $id) { journalEntry { description } } }',
          { as: attacker, variables: { id } },
        ),
      ).document;
    const content = minimalPdf('Sweep');
    for (const journalEntryId of [victim.entryId, randomUUID()]) {
      const uploaded = await uploadDocument(stack.gatewayUrl, attacker, { fileName: 'x.pdf', content, journalEntryId });
      assert.deepEqual(await entryOf(uploaded.id), { journalEntry: null });
      const attached = await uploadDocument(stack.gatewayUrl, attacker, { fileName: 'y.pdf', content });
      const { attachDocument } = dataOf(
        await graphql<{ attachDocument: { journalEntry: { description: string } | null } }>(
          stack.gatewayUrl,
          'mutation ($id: ID!, $entry: ID!) { attachDocument(id: $id, journalEntryId: $entry) { journalEntry { description } } }',
          { as: attacker, variables: { id: attached.id, entry: journalEntryId } },
        ),
      );
      assert.deepEqual(attachDocument, { journalEntry: null });
    }
  });
});
