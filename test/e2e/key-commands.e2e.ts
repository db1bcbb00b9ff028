import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  addLocalKmsVersion,
  addLocalWorkspaceKeyVersion,
  destroyLocalKmsVersion,
  localWorkspaceKeyFile,
} from '@numezis/runtime';
import type { ServiceName } from '@numezis/runtime';
import { newCanaries } from '../src/canaries.ts';
import type { Canaries } from '../src/canaries.ts';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import type { Caller } from '../src/client.ts';
import { createWorkspace, minimalPdf, postEntryWithReceipt, signIn, uploadDocument } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';

// `npm run keys` against a running stack's own databases and KMS, as an operator runs it. The
// services holding keys are stopped around each command, since an embedded PGlite folder has one
// process at a time, and started again afterwards, so every read below comes from a fresh process
// with nothing cached.
const keysCli = fileURLToPath(new URL('../../ops/src/keys-cli.ts', import.meta.url));
const keyServices: readonly ServiceName[] = ['identity', 'accounting', 'documents'];

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Seeded {
  readonly contactId: string;
  readonly employeeId: string;
  readonly documentId: string;
  readonly canaries: Canaries;
}

const personalData = `
  query ($contact: ID!, $employee: ID!, $iban: String!) {
    contact(id: $contact) { iban { electronic } address { street } }
    contactByIban(iban: $iban) { id }
    employee(id: $employee) { ahvNumberUnmasked address { street } }
  }`;

describe('key commands (npm run keys)', () => {
  let stack: TestStack;
  let pdf: Buffer;
  let a: Workspace;
  let b: Workspace;
  let books: Workspace;
  let seededA: Seeded;
  let seededB: Seeded;

  const runKeys = (args: readonly string[]) =>
    new Promise<CommandResult>((resolve) => {
      execFile(
        process.execPath,
        [keysCli, ...args],
        { env: { PATH: process.env.PATH, ...stack.keyCommandEnv } },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  const restartKeyServices = async (between?: () => Promise<void>) => {
    await Promise.all(keyServices.map((service) => stack.stop(service)));
    try {
      await between?.();
    } finally {
      await Promise.all(keyServices.map((service) => stack.start(service)));
    }
  };

  const keys = async (...args: string[]): Promise<CommandResult> => {
    let result: CommandResult | undefined;
    await restartKeyServices(async () => {
      result = await runKeys(args);
    });
    assert.ok(result !== undefined);
    return result;
  };

  const seed = async (as: Caller): Promise<Seeded> => {
    const canaries = newCanaries();
    const address = { street: canaries.street, buildingNumber: '7', postcode: '3011', town: 'Bern', country: 'CH' };
    const contactId = dataOf(
      await graphql<{ createContact: { id: string } }>(
        stack.gatewayUrl,
        'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
        { as, variables: { input: { kind: 'SUPPLIER', name: 'Schlüssel AG', address, iban: canaries.iban } } },
      ),
    ).createContact.id;
    const employeeId = dataOf(
      await graphql<{ createEmployee: { id: string } }>(
        stack.gatewayUrl,
        'mutation ($input: CreateEmployeeInput!) { createEmployee(input: $input) { id } }',
        { as, variables: { input: { name: 'Schlüssel Hans', address, ahvNumber: canaries.ahvDotted } } },
      ),
    ).createEmployee.id;
    const { id: documentId } = await uploadDocument(stack.gatewayUrl, as, { fileName: 'scan.pdf', content: pdf });
    return { contactId, employeeId, documentId, canaries };
  };

  const readPersonalData = (as: Caller, seeded: Seeded) =>
    graphql<{
      contact: { iban: { electronic: string }; address: { street: string } };
      contactByIban: { id: string };
      employee: { ahvNumberUnmasked: string; address: { street: string } };
    }>(stack.gatewayUrl, personalData, {
      as,
      variables: { contact: seeded.contactId, employee: seeded.employeeId, iban: seeded.canaries.iban },
    });

  const assertReadable = async (as: Caller, seeded: Seeded) => {
    assert.deepEqual(dataOf(await readPersonalData(as, seeded)), {
      contact: { iban: { electronic: seeded.canaries.iban }, address: { street: seeded.canaries.street } },
      contactByIban: { id: seeded.contactId },
      employee: { ahvNumberUnmasked: seeded.canaries.ahvDotted, address: { street: seeded.canaries.street } },
    });
    const download = await downloadFile(as, seeded.documentId);
    assert.equal(download.status, 200);
    assert.deepEqual(download.body, pdf);
  };

  const downloadFile = async (as: Caller, documentId: string) => {
    const { createDocumentDownload } = dataOf(
      await graphql<{ createDocumentDownload: { url: string } }>(
        stack.gatewayUrl,
        'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }',
        { as, variables: { id: documentId } },
      ),
    );
    const response = await fetch(new URL(createDocumentDownload.url, stack.gatewayUrl), {
      headers: { cookie: as.cookie },
    });
    const body = Buffer.from(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    return { status: response.status, body };
  };

  before(async () => {
    stack = await startTestStack();
    pdf = minimalPdf('Schlüsselprobe');
    a = await createWorkspace(stack);
    b = await createWorkspace(stack);
    books = await createWorkspace(stack);
    seededA = await seed(a);
    seededB = await seed(b);
    await postEntryWithReceipt(stack.gatewayUrl, books);
  });
  after(() => stack?.close());

  it('explain themselves and refuse a bad command line without touching anything', async () => {
    for (const args of [[], ['rotate'], ['rotate', 'not-a-uuid'], ['shred', a.workspaceId, 'extra'], ['explode']]) {
      const result = await runKeys(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /usage: npm run keys -- <command>/);
    }
  });

  it('rotate: a new field key in every service, every sealed value re-encrypted, all of it readable', async () => {
    const rotated = await keys('rotate', a.workspaceId);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^accounting: field key v2 is current$/m);
    assert.match(rotated.stdout, /^documents: field key v2 is current$/m);
    // The contact and the employee: each row is re-sealed once, whatever its number of sealed columns.
    assert.match(rotated.stdout, /^accounting: 2 rows re-encrypted \(contacts, employees\)$/m);
    assert.doesNotMatch(rotated.stdout + rotated.stderr, new RegExp(seededA.canaries.street));

    // Nothing is left on the old version: resuming finds no work.
    const resumed = await keys('reencrypt', a.workspaceId);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^accounting: 0 rows re-encrypted/m);

    // Fresh processes read the re-encrypted fields and the file sealed under v1; new data goes under v2.
    await assertReadable(a, seededA);
    await assertReadable(b, seededB);
    const newer = await uploadDocument(stack.gatewayUrl, a, { fileName: 'neu.pdf', content: pdf });
    assert.deepEqual((await downloadFile(a, newer.id)).body, pdf);
  });

  it('rewrap: after new KMS key versions, every key moves to its primary and the old versions can be destroyed', async () => {
    // The shared key (identity's service key) and workspace A's own key each get a new primary.
    const primary = await addLocalKmsVersion(stack.kmsKeyFile);
    await addLocalWorkspaceKeyVersion(stack.kmsKeyFile, a.workspaceId);
    const rewrapped = await keys('rewrap');
    assert.equal(rewrapped.code, 0, rewrapped.stderr);
    assert.match(
      rewrapped.stdout,
      new RegExp(`^identity: service key: 1 re-wrapped, 0 already current under ${primary}$`, 'm'),
    );
    // A's three accounting keys (field v1, v2, index v1) and two documents keys move; B's stay.
    assert.match(rewrapped.stdout, /^accounting: 2 workspaces: 3 re-wrapped, 2 already current$/m);
    assert.match(rewrapped.stdout, /^documents: 3 workspaces: 2 re-wrapped, 2 already current$/m);

    // With the first versions gone, every service still starts and reads everything.
    await restartKeyServices(async () => {
      await destroyLocalKmsVersion(stack.kmsKeyFile, 1);
      await destroyLocalKmsVersion(localWorkspaceKeyFile(stack.kmsKeyFile, a.workspaceId), 1);
    });
    await assertReadable(a, seededA);
    await assertReadable(b, seededB);
    // Identity opened its sealed secrets' key, so sign-in and sessions work as before.
    assert.equal(errorCode(await signIn(stack, a.email)), undefined);
  });

  it('shred: refused while accounting records must be kept; then the workspace is unreadable and no other is touched', async () => {
    const refused = await keys('shred', books.workspaceId);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /shred refused, nothing changed/);
    assert.match(refused.stderr, /accounting: the workspace has accounts or journal entries/);
    assert.match(refused.stderr, /documents: the workspace has receipts of journal entries/);
    assert.equal(errorCode(await graphql(stack.gatewayUrl, '{ journalEntries { id } }', { as: books })), undefined);

    const shredded = await keys('shred', a.workspaceId);
    assert.equal(shredded.code, 0, shredded.stderr);
    assert.match(shredded.stdout, /^accounting: 3 key versions destroyed$/m);
    assert.match(shredded.stdout, /^documents: 2 key versions destroyed$/m);

    const unreadable = await readPersonalData(a, seededA);
    assert.ok((unreadable.body.errors ?? []).length > 0, unreadable.text);
    assert.equal(unreadable.body.data?.contact ?? null, null, unreadable.text);
    assert.equal(unreadable.body.data?.employee ?? null, null, unreadable.text);
    for (const value of [seededA.canaries.iban, seededA.canaries.street, seededA.canaries.ahvDigits.slice(3, 7)]) {
      assert.ok(!unreadable.text.includes(value), 'no plaintext in the answer');
    }
    const download = await downloadFile(a, seededA.documentId);
    assert.notEqual(download.status, 200);
    assert.ok(!download.body.includes(pdf), 'no file content');
    // Nothing new can be sealed for it either.
    const created = await graphql(
      stack.gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        as: a,
        variables: {
          input: { kind: 'SUPPLIER', name: 'Nachher AG', address: { postcode: '3011', town: 'Bern', country: 'CH' } },
        },
      },
    );
    assert.ok((created.body.errors ?? []).length > 0, created.text);

    await assertReadable(b, seededB);
  });
});
