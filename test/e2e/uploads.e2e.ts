import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataOf, graphql, send } from '../src/client.ts';
import type { Caller, GraphQLResult } from '../src/client.ts';
import { addMember, createWorkspace, enrolTotp, minimalPdf, postEntryWithReceipt } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import type { TestStack } from '../src/test-stack.ts';
import type { ServiceName } from '@numezis/runtime';

// Its own stack: a small upload limit, request logging on (to prove tickets never reach a log line),
// and a test at the end that moves every service's clock.
const maxUploadBytes = 3 * 1024 * 1024;
const appOrigin = 'https://app.numezis.test';
let stack: TestStack;

/** Every ticket this file saw in a URL, so that the logs can be searched for them at the end. */
const tickets: string[] = [];

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const executable = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00', 'latin1'), Buffer.alloc(8 * 1024)]);

interface Upload {
  readonly uploadUrl: string;
  readonly expiresAt: string;
  readonly maxBytes: number;
}

async function startUpload(as: Caller, input: Record<string, unknown> = { fileName: 'beleg.pdf' }): Promise<Upload> {
  const { createDocumentUpload } = dataOf(
    await graphql<{ createDocumentUpload: Upload }>(
      stack.gatewayUrl,
      'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl expiresAt maxBytes } }',
      { as, variables: { input } },
    ),
  );
  tickets.push(createDocumentUpload.uploadUrl.split('/').at(-1) ?? '');
  return createDocumentUpload;
}

async function downloadLink(as: Caller, id: string): Promise<string> {
  const { createDocumentDownload } = dataOf(
    await graphql<{ createDocumentDownload: { url: string } }>(
      stack.gatewayUrl,
      'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }',
      { as, variables: { id } },
    ),
  );
  tickets.push(createDocumentDownload.url.split('/').at(-1) ?? '');
  return createDocumentDownload.url;
}

const url = (path: string) => new URL(path, stack.gatewayUrl).href;
const credentials = (as: Caller | { apiKey: string } | null): Record<string, string> =>
  as === null ? {} : 'apiKey' in as ? { authorization: `Bearer ${as.apiKey}` } : { cookie: as.cookie };

/** PUTs a file the way a client would, claiming it is a PDF whatever it is. */
const put = (
  path: string,
  as: Caller | { apiKey: string } | null,
  body: Buffer,
  headers: Record<string, string> = {},
) =>
  send<never>(url(path), {
    method: 'PUT',
    headers: { ...credentials(as), 'content-type': 'application/pdf', ...headers },
    body,
  });

const fetchContent = (path: string, as: Caller | null) => fetch(url(path), { headers: credentials(as) });

interface StoredDocument {
  readonly id: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly sha256: string;
}

async function upload(as: Caller, content: Buffer, input?: Record<string, unknown>): Promise<StoredDocument> {
  const result = await put((await startUpload(as, input)).uploadUrl, as, content);
  assert.equal(result.status, 201, result.text);
  return (JSON.parse(result.text) as { document: StoredDocument }).document;
}

/** The error of a refused transfer: status, and extensions without the request id. */
function refusal(result: GraphQLResult<unknown>): { status: number; extensions: Record<string, unknown> } {
  const extensions = { ...result.body.errors?.[0]?.extensions };
  assert.equal(typeof extensions.requestId, 'string', result.text);
  delete extensions.requestId;
  return { status: result.status, extensions };
}

/** An answer without what differs between any two requests: the request id. */
function normalised(result: GraphQLResult<unknown>): unknown {
  return { ...refusal(result), message: result.body.errors?.[0]?.message };
}

/** Every file in the blob store, its temporary folder included. */
async function storedFiles(): Promise<string[]> {
  const entries = await readdir(stack.blobDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

describe('document files through the gateway', () => {
  before(async () => {
    stack = await startTestStack({
      serviceEnv: {
        documents: { DOCUMENTS_MAX_UPLOAD_BYTES: String(maxUploadBytes), LOG_LEVEL: 'debug' },
        gateway: { LOG_LEVEL: 'debug', GATEWAY_CORS_ORIGINS: appOrigin },
      },
    });
  });
  after(() => stack.close());

  it('a real PDF round-trips byte for byte with its SHA-256, and each ticket works once', async () => {
    const admin = await createWorkspace(stack);
    const pdf = minimalPdf('Rechnung 2026-042');
    const ticket = await startUpload(admin, { fileName: 'Rechnung 2026-042 (Müller AG).pdf' });
    assert.match(ticket.uploadUrl, new RegExp(`^/uploads/${admin.workspaceId}/[A-Za-z0-9_-]{43}$`));
    assert.equal(ticket.maxBytes, maxUploadBytes);
    assert.ok(Date.parse(ticket.expiresAt) > Date.now());

    const stored = await put(ticket.uploadUrl, admin, pdf);
    assert.equal(stored.status, 201, stored.text);
    const { document } = JSON.parse(stored.text) as { document: StoredDocument };
    assert.deepEqual(
      { ...document, id: undefined },
      {
        id: undefined,
        fileName: 'Rechnung 2026-042 (Müller AG).pdf',
        contentType: 'application/pdf',
        size: pdf.length,
        sha256: sha256(pdf),
        journalEntryId: null,
        createdAt: (document as StoredDocument & { createdAt: string }).createdAt,
      },
    );
    assert.deepEqual(
      dataOf(
        await graphql(stack.gatewayUrl, 'query ($id: ID!) { document(id: $id) { contentType size sha256 } }', {
          as: admin,
          variables: { id: document.id },
        }),
      ),
      { document: { contentType: 'application/pdf', size: pdf.length, sha256: sha256(pdf) } },
    );
    assert.deepEqual(refusal(await put(ticket.uploadUrl, admin, pdf)), {
      status: 410,
      extensions: { code: 'BAD_USER_INPUT', field: 'ticket', reason: 'TICKET_USED' },
    });
    // At rest the file is encrypted: the store holds none of its bytes in the clear.
    const atRest = await readFile(join(stack.blobDir, admin.workspaceId, document.id));
    assert.equal(atRest.subarray(0, 4).toString('latin1'), 'NZD1');
    assert.ok(!atRest.includes(Buffer.from('%PDF')) && !atRest.includes(Buffer.from('Rechnung 2026-042')));

    const link = await downloadLink(admin, document.id);
    assert.match(link, new RegExp(`^/downloads/${admin.workspaceId}/[A-Za-z0-9_-]{43}$`));
    const response = await fetchContent(link, admin);
    assert.equal(response.status, 200);
    const content = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(content, pdf);
    assert.equal(sha256(content), document.sha256);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal(response.headers.get('content-length'), String(pdf.length));
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="Rechnung 2026-042 (M_ller AG).pdf"; filename*=UTF-8''Rechnung%202026-042%20%28M%C3%BCller%20AG%29.pdf`,
    );
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.deepEqual(refusal(await send(url(link), { headers: { cookie: admin.cookie } })), {
      status: 410,
      extensions: { code: 'BAD_USER_INPUT', field: 'ticket', reason: 'TICKET_USED' },
    });
  });

  it('takes uploads with an API key, and files beyond the GraphQL body limit, which stays', async () => {
    const admin = await enrolTotp(stack, await createWorkspace(stack));
    const { createApiKey } = dataOf(
      await graphql<{ createApiKey: { secret: string } }>(
        stack.gatewayUrl,
        'mutation { createApiKey(input: { name: "Scanner", role: OPERATOR }) { secret } }',
        { as: admin },
      ),
    );
    // Two megabytes: twice what /graphql accepts.
    const large = minimalPdf('x'.repeat(2 * 1024 * 1024));
    const stored = await put((await startUpload(admin)).uploadUrl, { apiKey: createApiKey.secret }, large);
    assert.equal(stored.status, 201, stored.text);
    assert.equal((JSON.parse(stored.text) as { document: StoredDocument }).document.sha256, sha256(large));
    const tooLarge = await send(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: admin.cookie },
      body: JSON.stringify({ query: '{ workspace { id } }', variables: { padding: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    assert.equal(tooLarge.status, 413);
  });

  it('refuses a renamed executable sent as a PDF, naming the field, and keeps nothing', async () => {
    const admin = await createWorkspace(stack);
    const before = await storedFiles();
    for (const bytes of [executable, Buffer.from('\x7fELF\x02\x01\x01\x00rest of an ELF binary', 'latin1')]) {
      const ticket = await startUpload(admin, { fileName: 'rechnung.pdf' });
      assert.deepEqual(refusal(await put(ticket.uploadUrl, admin, bytes)), {
        status: 415,
        extensions: { code: 'BAD_USER_INPUT', field: 'file', reason: 'UNSUPPORTED_FILE_TYPE' },
      });
    }
    assert.deepEqual(await storedFiles(), before);
    assert.deepEqual(dataOf(await graphql(stack.gatewayUrl, '{ documents { id } }', { as: admin })), { documents: [] });
  });

  it('cuts an oversized upload off while it streams, keeps nothing, and spends the ticket', async () => {
    const admin = await createWorkspace(stack);
    const before = await storedFiles();
    const ticket = await startUpload(admin);
    // Half a gigabyte offered lazily, without a Content-Length: only reading it would fill anything.
    const offered = 512 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= offered) return controller.close();
        controller.enqueue(pulled === 0 ? Buffer.concat([Buffer.from('%PDF-1.7\n'), chunk]) : chunk);
        pulled += chunk.length;
      },
    });
    const response = await fetch(url(ticket.uploadUrl), {
      method: 'PUT',
      headers: { cookie: admin.cookie, 'content-type': 'application/pdf' },
      body,
      duplex: 'half',
    });
    const text = await response.text();
    await body.cancel().catch(() => undefined);
    assert.equal(response.status, 413, text);
    assert.deepEqual(
      (JSON.parse(text) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]?.extensions,
      {
        code: 'PAYLOAD_TOO_LARGE',
        field: 'file',
        reason: 'FILE_TOO_LARGE',
        maxBytes: maxUploadBytes,
        requestId: response.headers.get('x-request-id'),
      },
    );
    // Socket buffers on the way hold a few megabytes at most; nothing read the rest.
    assert.ok(pulled < 64 * 1024 * 1024, `${pulled} bytes were read`);
    assert.deepEqual(await storedFiles(), before);
    assert.deepEqual(refusal(await put(ticket.uploadUrl, admin, minimalPdf('retry'))), {
      status: 410,
      extensions: { code: 'BAD_USER_INPUT', field: 'ticket', reason: 'TICKET_USED' },
    });

    const declared = await put((await startUpload(admin)).uploadUrl, admin, Buffer.alloc(maxUploadBytes + 1, 0x25));
    assert.deepEqual(refusal(declared), {
      status: 413,
      extensions: { code: 'PAYLOAD_TOO_LARGE', field: 'file', reason: 'FILE_TOO_LARGE', maxBytes: maxUploadBytes },
    });
    assert.deepEqual(await storedFiles(), before);
  });

  it("lets the web app's origin upload from the browser", async () => {
    const preflight = await fetch(url(`/uploads/${randomUUID()}/${'A'.repeat(43)}`), {
      method: 'OPTIONS',
      headers: {
        origin: appOrigin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), appOrigin);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPUT\b/);
  });

  it('keeps nothing of an upload the client abandons midway', async () => {
    const admin = await createWorkspace(stack);
    const before = await storedFiles();
    const ticket = await startUpload(admin);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Well within the limit the client gives up (its connection drops); nothing refuses it.
        if (pulled === 8) return controller.error(new Error('the client gives up'));
        controller.enqueue(pulled === 0 ? Buffer.from('%PDF-1.7\n') : Buffer.alloc(64 * 1024));
        pulled += 1;
      },
    });
    const aborted = stack.waitForLog('documents', (line) => line.includes('upload aborted by the client'), 10_000);
    await assert.rejects(
      fetch(url(ticket.uploadUrl), {
        method: 'PUT',
        headers: { cookie: admin.cookie, 'content-type': 'application/pdf' },
        body,
        duplex: 'half',
      }),
      (error: Error) => (error.cause as Error).message === 'the client gives up',
    );
    await aborted;
    assert.deepEqual(await storedFiles(), before);
    assert.deepEqual(dataOf(await graphql(stack.gatewayUrl, '{ documents { id } }', { as: admin })), { documents: [] });
  });

  it('needs a session or an API key, and the right to write, before a byte moves', async () => {
    const admin = await createWorkspace(stack);
    const viewer = await addMember(stack, admin, 'VIEWER');
    const ticket = await startUpload(admin);
    const pdf = minimalPdf('Beleg');
    assert.deepEqual(refusal(await put(ticket.uploadUrl, null, pdf)), {
      status: 401,
      extensions: { code: 'UNAUTHENTICATED' },
    });
    const stale = await put(ticket.uploadUrl, { cookie: `__Host-numezis-session=${'A'.repeat(43)}` }, pdf);
    assert.equal(refusal(stale).status, 401);
    assert.match(stale.setCookie ?? '', /Max-Age=0/);
    assert.equal(refusal(await put(ticket.uploadUrl, { apiKey: `nmz_${'A'.repeat(43)}` }, pdf)).status, 401);
    assert.deepEqual(refusal(await put(ticket.uploadUrl, viewer, pdf)), {
      status: 403,
      extensions: { code: 'FORBIDDEN', permission: 'documents.write' },
    });
    const otherWorkspace = await put(ticket.uploadUrl, admin, pdf, { 'x-numezis-workspace': randomUUID() });
    assert.deepEqual(refusal(otherWorkspace), { status: 400, extensions: { code: 'BAD_REQUEST' } });
    // None of these reached the ticket.
    assert.equal((await put(ticket.uploadUrl, admin, pdf)).status, 201);

    const document = await upload(admin, pdf);
    const link = await downloadLink(admin, document.id);
    assert.deepEqual(refusal(await send(url(link), {})), { status: 401, extensions: { code: 'UNAUTHENTICATED' } });
    // Reading is a Viewer's right: the link works for any reader of the workspace, once.
    assert.equal((await fetchContent(link, viewer)).status, 200);
  });

  it("answers another workspace's tickets and document ids exactly like missing ones", async () => {
    const alpha = await createWorkspace(stack, 'Alpha AG');
    const beta = await createWorkspace(stack, 'Beta AG');
    const betaTicket = await startUpload(beta);
    const betaDocument = await upload(beta, minimalPdf('Beta'));
    const betaLink = await downloadLink(beta, betaDocument.id);
    const unknownTicket = 'A'.repeat(43);
    const [, , , uploadTicket = ''] = betaTicket.uploadUrl.split('/');
    const [, , , linkTicket = ''] = betaLink.split('/');

    const pdf = minimalPdf('Alpha');
    const asAlpha = {
      upload: (ticket: string) => put(`/uploads/${alpha.workspaceId}/${ticket}`, alpha, pdf),
      download: (ticket: string) =>
        send(url(`/downloads/${alpha.workspaceId}/${ticket}`), { headers: { cookie: alpha.cookie } }),
    };
    const foreignUpload = await asAlpha.upload(uploadTicket);
    assert.deepEqual(normalised(foreignUpload), normalised(await asAlpha.upload(unknownTicket)));
    assert.deepEqual(normalised(foreignUpload), normalised(await asAlpha.upload('not-a-ticket')));
    assert.deepEqual(refusal(foreignUpload), { status: 404, extensions: { code: 'NOT_FOUND', field: 'ticket' } });
    const foreignDownload = await asAlpha.download(linkTicket);
    assert.deepEqual(normalised(foreignDownload), normalised(await asAlpha.download(unknownTicket)));
    assert.equal(foreignDownload.status, 404);
    // Beta's own URLs, which name Beta's workspace: Alpha is no member there.
    assert.deepEqual(
      normalised(await put(betaTicket.uploadUrl, alpha, pdf)),
      normalised(await put(`/uploads/${beta.workspaceId}/${unknownTicket}`, alpha, pdf)),
    );

    for (const mutation of [
      'mutation ($id: ID!) { createDocumentDownload(id: $id) { url } }',
      'mutation ($id: ID!) { deleteDocument(id: $id) }',
      `mutation ($id: ID!) { attachDocument(id: $id, journalEntryId: "${randomUUID()}") { id } }`,
    ]) {
      const foreign = await graphql(stack.gatewayUrl, mutation, { as: alpha, variables: { id: betaDocument.id } });
      const missing = await graphql(stack.gatewayUrl, mutation, { as: alpha, variables: { id: randomUUID() } });
      assert.deepEqual(normalised(foreign), normalised(missing), mutation);
      assert.equal(foreign.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    }

    // Beta's ticket, link and document are untouched by all of it.
    assert.equal((await put(betaTicket.uploadUrl, beta, minimalPdf('Beta 2'))).status, 201);
    const content = await fetchContent(betaLink, beta);
    assert.equal(content.status, 200);
    assert.equal(sha256(Buffer.from(await content.arrayBuffer())), betaDocument.sha256);
  });

  it('refuses to delete a receipt of a posted entry, and deletes a loose document with its file', async () => {
    const admin = await createWorkspace(stack);
    const { documentId } = await postEntryWithReceipt(stack.gatewayUrl, admin);
    const remove = (id: string) =>
      graphql(stack.gatewayUrl, 'mutation ($id: ID!) { deleteDocument(id: $id) }', { as: admin, variables: { id } });
    const refused = await remove(documentId);
    assert.deepEqual(refused.body.errors?.[0]?.extensions, {
      code: 'BAD_USER_INPUT',
      field: 'id',
      reason: 'DOCUMENT_BACKS_JOURNAL_ENTRY',
      serviceName: 'documents',
      requestId: refused.body.errors?.[0]?.extensions?.requestId,
    });
    assert.ok((await storedFiles()).includes(join(stack.blobDir, admin.workspaceId, documentId)));

    const loose = await upload(admin, minimalPdf('Entwurf'));
    const file = join(stack.blobDir, admin.workspaceId, loose.id);
    assert.ok((await storedFiles()).includes(file));
    assert.deepEqual(dataOf(await remove(loose.id)), { deleteDocument: true });
    assert.ok(!(await storedFiles()).includes(file));
    assert.equal((await remove(loose.id)).body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  it('fails a download loudly when the stored file was tampered with, never serving a complete file', async () => {
    const admin = await createWorkspace(stack);
    // Several 64 KiB chunks: a fault in the first is an error status, a later one cuts the transfer.
    const pdf = minimalPdf('x'.repeat(300 * 1024));
    const early = await upload(admin, pdf);
    const late = await upload(admin, pdf);
    for (const [document, position] of [
      [early, 100],
      [late, 3 * 64 * 1024],
    ] as const) {
      const file = join(stack.blobDir, admin.workspaceId, document.id);
      const stored = await readFile(file);
      stored[position] = (stored[position] ?? 0) ^ 0x01;
      await writeFile(file, stored);
    }
    const refused = await send(url(await downloadLink(admin, early.id)), { headers: { cookie: admin.cookie } });
    assert.deepEqual(refusal(refused), {
      status: 500,
      extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'STORED_FILE_CORRUPT' },
    });
    const logged = stack.waitForLog(
      'documents',
      (line) => line.includes(late.id) && line.includes('integrity'),
      10_000,
    );
    const response = await fetchContent(await downloadLink(admin, late.id), admin);
    assert.equal(response.status, 200);
    await assert.rejects(response.arrayBuffer());
    await logged;
  });

  it('never writes a ticket into a log line', async () => {
    assert.ok(tickets.length > 10);
    const services: ServiceName[] = ['gateway', 'documents'];
    // Request logging is on (LOG_LEVEL=debug), and it logged the transfer routes, redacted.
    await stack.waitForLog('gateway', (line) => line.includes('/uploads/[redacted]'));
    for (const service of services) {
      const leaked = stack.logs(service).filter((line) => tickets.some((ticket) => line.includes(ticket)));
      assert.deepEqual(leaked, [], service);
    }
  });

  // Last: it moves every service's clock.
  it('refuses an expired ticket', async () => {
    const admin = await createWorkspace(stack);
    const ticket = await startUpload(admin);
    const link = await downloadLink(admin, (await upload(admin, minimalPdf('Beleg'))).id);
    await stack.stop('gateway');
    const subgraphs = ['identity', 'accounting', 'documents', 'audit'] as const;
    await Promise.all(subgraphs.map((service) => stack.stop(service)));
    // Past the ten minutes of an upload ticket, well within the session's idle time.
    const later = { NUMEZIS_CLOCK_OFFSET_MS: String(11 * 60_000) };
    await Promise.all(subgraphs.map((service) => stack.start(service, later)));
    await stack.start('gateway', later);
    assert.deepEqual(refusal(await put(ticket.uploadUrl, admin, minimalPdf('Beleg'))), {
      status: 410,
      extensions: { code: 'BAD_USER_INPUT', field: 'ticket', reason: 'TICKET_EXPIRED' },
    });
    assert.deepEqual(refusal(await send(url(link), { headers: { cookie: admin.cookie } })), {
      status: 410,
      extensions: { code: 'BAD_USER_INPUT', field: 'ticket', reason: 'TICKET_EXPIRED' },
    });
  });
});
