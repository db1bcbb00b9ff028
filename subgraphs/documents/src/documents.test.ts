import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { manualClock, startInProcessSubgraph } from '@numezis/runtime';
import type { InProcessSubgraph } from '@numezis/runtime';
import type { DocumentsSettings } from './config.ts';
import { createDocumentsSubgraph } from './definition.ts';

const createUpload =
  'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl expiresAt maxBytes } }';
const createDownload = 'mutation ($id: ID!) { createDocumentDownload(id: $id) { url expiresAt } }';
const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const maxUploadBytes = 64 * 1024;

/** Every file under `dir` but the store's (empty) temporary folder. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** An answer without what differs between any two requests: the request id. */
function withoutRequestId(body: string): unknown {
  const parsed = JSON.parse(body) as { errors: { extensions: Record<string, unknown> }[] };
  for (const error of parsed.errors) delete error.extensions.requestId;
  return parsed;
}

describe('documents', () => {
  let subgraph: InProcessSubgraph;
  let blobDir: string;
  const clock = manualClock(Date.now());
  const statements: string[] = [];
  const tenant = randomUUID();

  before(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'numezis-document-files-'));
    const settings: DocumentsSettings = {
      maxUploadBytes,
      blobDir,
      uploadTicketTtlMs: 10 * 60_000,
      downloadLinkTtlMs: 5 * 60_000,
    };
    subgraph = await startInProcessSubgraph(createDocumentsSubgraph(settings, clock), {
      env: process.env,
      onQuery: (statement) => statements.push(statement),
    });
  });
  after(async () => {
    await subgraph.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  /** A new upload ticket of `tenantId`, taken from the URL the mutation answers with. */
  async function ticketFor(tenantId: string, input: Record<string, unknown> = { fileName: 'beleg.pdf' }) {
    const result = await subgraph.post(tenantId, createUpload, { variables: { input } });
    const upload = result.data?.createDocumentUpload as { uploadUrl: string; maxBytes: number } | undefined;
    assert.ok(upload !== undefined, JSON.stringify(result));
    const [, uploads, workspace, ticket] = upload.uploadUrl.split('/');
    assert.deepEqual([uploads, workspace, upload.maxBytes], ['uploads', tenantId, maxUploadBytes]);
    assert.ok(ticket !== undefined);
    return ticket;
  }

  const put = (
    tenantId: string,
    ticket: string,
    payload: Buffer | Readable,
    options: { headers?: Record<string, string>; role?: 'VIEWER' } = {},
  ) =>
    subgraph.inject(
      tenantId,
      {
        method: 'PUT',
        url: '/internal/uploads',
        headers: { 'x-numezis-ticket': ticket, 'content-type': 'application/pdf', ...options.headers },
        payload,
      },
      options.role === undefined ? {} : { role: options.role },
    );

  async function uploaded(tenantId: string, input?: Record<string, unknown>, content = pdf) {
    const response = await put(tenantId, await ticketFor(tenantId, input), content);
    assert.equal(response.statusCode, 201, response.body);
    return response.json<{ document: { id: string; sha256: string; size: number; contentType: string } }>().document;
  }

  const download = (tenantId: string, url: string) =>
    subgraph.inject(tenantId, {
      method: 'GET',
      url: '/internal/downloads',
      headers: { 'x-numezis-ticket': url.split('/').at(-1) ?? '' },
    });

  async function linkTo(tenantId: string, id: string): Promise<string> {
    const result = await subgraph.post(tenantId, createDownload, { variables: { id } });
    const link = result.data?.createDocumentDownload as { url: string } | undefined;
    assert.ok(link !== undefined, JSON.stringify(result));
    return link.url;
  }

  const errorOf = (response: { body: string }) =>
    (JSON.parse(response.body) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]?.extensions;

  it('refuses bad file names and malformed entry ids, naming the field', async () => {
    for (const [input, field] of [
      [{ fileName: ' ' }, 'fileName'],
      [{ fileName: 'a'.repeat(256) }, 'fileName'],
      [{ fileName: '../../etc/passwd' }, 'fileName'],
      [{ fileName: 'beleg\n.pdf' }, 'fileName'],
      [{ fileName: 'a.pdf', journalEntryId: 'x' }, 'journalEntryId'],
    ] as const) {
      const result = await subgraph.post(tenant, createUpload, { variables: { input } });
      assert.deepEqual(
        [result.errors?.[0]?.extensions?.code, result.errors?.[0]?.extensions?.field],
        ['BAD_USER_INPUT', field],
        JSON.stringify(input),
      );
    }
  });

  it('stores an upload with the detected type, size and SHA-256, once per ticket', async () => {
    const ticket = await ticketFor(tenant, { fileName: 'rechnung.pdf' });
    // The client's content type is ignored: a PDF sent as an image is still a PDF.
    const first = await put(tenant, ticket, pdf, { headers: { 'content-type': 'image/png' } });
    assert.equal(first.statusCode, 201, first.body);
    const { document } = first.json<{ document: { id: string } }>();
    assert.deepEqual(document, {
      id: document.id,
      fileName: 'rechnung.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      journalEntryId: null,
      createdAt: new Date(clock.now()).toISOString(),
    });
    const read = await subgraph.post(tenant, 'query ($id: ID!) { document(id: $id) { contentType size sha256 } }', {
      variables: { id: document.id },
    });
    assert.deepEqual(read.data?.document, {
      contentType: 'application/pdf',
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
    });

    const again = await put(tenant, ticket, pdf);
    assert.equal(again.statusCode, 410);
    assert.deepEqual(errorOf(again), {
      code: 'BAD_USER_INPUT',
      field: 'ticket',
      reason: 'TICKET_USED',
      requestId: errorOf(again)?.requestId,
    });
  });

  it("answers another workspace's ticket exactly like a missing one, and leaves it usable", async () => {
    const victim = randomUUID();
    const ticket = await ticketFor(victim);
    const foreign = await put(tenant, ticket, pdf);
    const missing = await put(tenant, 'A'.repeat(43), pdf);
    const malformed = await put(tenant, 'not-a-ticket', pdf);
    assert.equal(foreign.statusCode, 404);
    assert.deepEqual(withoutRequestId(foreign.body), withoutRequestId(missing.body));
    assert.deepEqual(withoutRequestId(foreign.body), withoutRequestId(malformed.body));
    assert.deepEqual(errorOf(foreign)?.field, 'ticket');
    assert.equal((await put(victim, ticket, pdf)).statusCode, 201);
  });

  it('refuses an expired ticket', async () => {
    const ticket = await ticketFor(tenant);
    clock.advance(10 * 60_000);
    const response = await put(tenant, ticket, pdf);
    assert.equal(response.statusCode, 410);
    assert.deepEqual([errorOf(response)?.field, errorOf(response)?.reason], ['ticket', 'TICKET_EXPIRED']);
  });

  it('refuses a file that is no PDF or scan whatever it claims, keeping nothing, and the ticket is spent', async () => {
    const before = await filesUnder(blobDir);
    const ticket = await ticketFor(tenant, { fileName: 'rechnung.pdf' });
    const executable = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(4096)]);
    const response = await put(tenant, ticket, executable);
    assert.equal(response.statusCode, 415);
    assert.deepEqual(errorOf(response), {
      code: 'BAD_USER_INPUT',
      field: 'file',
      reason: 'UNSUPPORTED_FILE_TYPE',
      requestId: errorOf(response)?.requestId,
    });
    assert.deepEqual(await filesUnder(blobDir), before);
    assert.equal((await put(tenant, ticket, pdf)).statusCode, 410);
  });

  it('refuses an oversized file by its declared length, or while it streams, keeping nothing', async () => {
    const before = await filesUnder(blobDir);
    const declared = await put(tenant, await ticketFor(tenant), pdf, {
      headers: { 'content-length': String(maxUploadBytes + 1) },
    });
    assert.equal(declared.statusCode, 413);
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 16 * 1024;
        this.push(
          sent === 16 * 1024 ? Buffer.concat([pdf, Buffer.alloc(16 * 1024 - pdf.length)]) : Buffer.alloc(16 * 1024),
        );
        // A generous bound, only so that a broken limit fails the test instead of filling the disk.
        if (sent >= 64 * maxUploadBytes) this.push(null);
      },
    });
    const streamed = await put(tenant, await ticketFor(tenant), endless);
    assert.equal(streamed.statusCode, 413);
    for (const response of [declared, streamed]) {
      assert.deepEqual(errorOf(response), {
        code: 'PAYLOAD_TOO_LARGE',
        field: 'file',
        reason: 'FILE_TOO_LARGE',
        maxBytes: maxUploadBytes,
        requestId: errorOf(response)?.requestId,
      });
    }
    assert.deepEqual(await filesUnder(blobDir), before);
  });

  it('checks the permission again when the file arrives', async () => {
    const response = await put(tenant, await ticketFor(tenant), pdf, { role: 'VIEWER' });
    assert.equal(response.statusCode, 403);
    assert.deepEqual([errorOf(response)?.code, errorOf(response)?.permission], ['FORBIDDEN', 'documents.write']);
  });

  it('serves the content once through a short-lived link, in its own workspace only', async () => {
    const document = await uploaded(tenant, { fileName: 'Quittung "März".pdf' });
    const url = await linkTo(tenant, document.id);
    assert.match(url, new RegExp(`^/downloads/${tenant}/[A-Za-z0-9_-]{43}$`));

    const other = randomUUID();
    const foreign = await download(other, url);
    const missing = await download(other, `/downloads/${other}/${'A'.repeat(43)}`);
    assert.equal(foreign.statusCode, 404);
    assert.deepEqual(withoutRequestId(foreign.body), withoutRequestId(missing.body));

    const response = await download(tenant, url);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.rawPayload, pdf);
    assert.equal(response.headers['content-type'], 'application/pdf');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(
      response.headers['content-disposition'],
      `attachment; filename="Quittung _M_rz_.pdf"; filename*=UTF-8''Quittung%20%22M%C3%A4rz%22.pdf`,
    );
    assert.equal(response.headers['repr-digest'], `sha-256=:${createHash('sha256').update(pdf).digest('base64')}:`);
    assert.equal((await download(tenant, url)).statusCode, 410);

    const late = await linkTo(tenant, document.id);
    clock.advance(5 * 60_000);
    const expired = await download(tenant, late);
    assert.equal(expired.statusCode, 410);
    assert.equal(errorOf(expired)?.reason, 'TICKET_EXPIRED');

    const missingDocument = await subgraph.post(tenant, createDownload, { variables: { id: randomUUID() } });
    assert.equal(missingDocument.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  it('keeps the receipts of a posted entry, and deletes a document that backs none with its file', async () => {
    const entry = randomUUID();
    const attached = await uploaded(tenant, { fileName: 'beleg.pdf', journalEntryId: entry });
    const loose = await uploaded(tenant);
    const link = await linkTo(tenant, loose.id);
    const remove = (id: string) =>
      subgraph.post(tenant, 'mutation ($id: ID!) { deleteDocument(id: $id) }', { variables: { id } });
    const attach = (id: string, journalEntryId: string) =>
      subgraph.post(
        tenant,
        'mutation ($id: ID!, $e: ID!) { attachDocument(id: $id, journalEntryId: $e) { id journalEntry { id } } }',
        {
          variables: { id, e: journalEntryId },
        },
      );

    const refused = await remove(attached.id);
    assert.deepEqual(refused.errors?.[0]?.extensions, {
      code: 'BAD_USER_INPUT',
      field: 'id',
      reason: 'DOCUMENT_BACKS_JOURNAL_ENTRY',
      requestId: refused.errors?.[0]?.extensions?.requestId,
    });
    assert.equal(
      (await attach(attached.id, randomUUID())).errors?.[0]?.extensions?.reason,
      'DOCUMENT_BACKS_JOURNAL_ENTRY',
    );
    assert.deepEqual((await attach(attached.id, entry)).data?.attachDocument, {
      id: attached.id,
      journalEntry: { id: entry },
    });

    const files = await filesUnder(blobDir);
    assert.deepEqual((await remove(loose.id)).data, { deleteDocument: true });
    assert.deepEqual(
      await filesUnder(blobDir),
      files.filter((file) => !file.endsWith(loose.id)),
    );
    assert.equal((await download(tenant, link)).statusCode, 404);
    assert.equal((await remove(loose.id)).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal((await remove(randomUUID())).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal(
      (
        await subgraph.post(randomUUID(), 'mutation ($id: ID!) { deleteDocument(id: $id) }', {
          variables: { id: attached.id },
        })
      ).errors?.[0]?.extensions?.code,
      'NOT_FOUND',
    );

    const later = await uploaded(tenant);
    assert.deepEqual((await attach(later.id, entry)).data?.attachDocument, {
      id: later.id,
      journalEntry: { id: entry },
    });
    assert.equal((await remove(later.id)).errors?.[0]?.extensions?.reason, 'DOCUMENT_BACKS_JOURNAL_ENTRY');
  });

  it('loads the documents of many journal entries in one query', async () => {
    const entries = [randomUUID(), randomUUID(), randomUUID()];
    for (const journalEntryId of entries) await uploaded(tenant, { fileName: `${journalEntryId}.pdf`, journalEntryId });
    statements.length = 0;
    const result = await subgraph.post(
      tenant,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on JournalEntry { id documents { fileName } } } }',
      { variables: { r: entries.map((id) => ({ __typename: 'JournalEntry', id })) } },
    );
    assert.deepEqual(
      result.data?._entities,
      entries.map((id) => ({ id, documents: [{ fileName: `${id}.pdf` }] })),
    );
    assert.equal(statements.filter((statement) => /from "documents"\."documents"/i.test(statement)).length, 1);
  });
});
