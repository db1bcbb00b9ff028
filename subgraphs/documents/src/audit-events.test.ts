import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock, startInProcessSubgraph } from '@numezis/runtime';
import type { AuditEvent, GraphQLBody, InProcessSubgraph } from '@numezis/runtime';
import type { DocumentsSettings } from './config.ts';
import { createDocumentsSubgraph } from './definition.ts';

const createUpload =
  'mutation ($input: CreateDocumentUploadInput!) { createDocumentUpload(input: $input) { uploadUrl expiresAt } }';
const createDownload = 'mutation ($id: ID!) { createDocumentDownload(id: $id) { url expiresAt } }';
const attach =
  'mutation ($id: ID!, $e: ID!) { attachDocument(id: $id, journalEntryId: $e) { id journalEntry { id } } }';
const remove = 'mutation ($id: ID!) { deleteDocument(id: $id) }';
const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const pdfSha256 = createHash('sha256').update(pdf).digest('hex');
type PostOptions = NonNullable<Parameters<InProcessSubgraph['post']>[2]>;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('audit events of the documents mutations', () => {
  let subgraph: InProcessSubgraph;
  let blobDir: string;
  const clock = manualClock(Date.now());

  before(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'numezis-document-audit-'));
    const settings: DocumentsSettings = {
      maxUploadBytes: 64 * 1024,
      blobDir,
      uploadTicketTtlMs: 10 * 60_000,
      downloadLinkTtlMs: 5 * 60_000,
    };
    subgraph = await startInProcessSubgraph(createDocumentsSubgraph(settings, clock), { env: process.env });
  });
  after(async () => {
    await subgraph.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  const eventsOf = async (tenantId: string) =>
    (await subgraph.auditOutbox()).filter((event) => event.tenantId === tenantId);

  /** Runs one mutation and returns its answer and the one event it left in `tenantId`'s trail. */
  async function audited(
    tenantId: string,
    query: string,
    variables: Record<string, unknown>,
    options: PostOptions = {},
  ): Promise<{ result: GraphQLBody; event: AuditEvent }> {
    const earlier = (await eventsOf(tenantId)).length;
    const result = await subgraph.post(tenantId, query, { ...options, variables });
    const events = await eventsOf(tenantId);
    assert.equal(
      events.length,
      earlier + 1,
      `exactly one event for ${query}: ${JSON.stringify(events.slice(earlier))}`,
    );
    const event = events.at(-1);
    assert.ok(event !== undefined);
    return { result, event };
  }

  /** A stored document: a ticket, then the file through the upload route (which is no mutation). */
  async function uploaded(tenantId: string, fileName: string): Promise<{ id: string; ticket: string }> {
    const result = await subgraph.post(tenantId, createUpload, { variables: { input: { fileName } } });
    const upload = result.data?.createDocumentUpload as { uploadUrl: string } | undefined;
    assert.ok(upload !== undefined, JSON.stringify(result));
    const ticket = upload.uploadUrl.split('/').at(-1) ?? '';
    const response = await subgraph.inject(tenantId, {
      method: 'PUT',
      url: '/internal/uploads',
      headers: { 'x-numezis-ticket': ticket, 'content-type': 'application/pdf' },
      payload: pdf,
    });
    assert.equal(response.statusCode, 201, response.body);
    return { id: response.json<{ document: { id: string } }>().document.id, ticket };
  }

  it('records an upload ticket without the ticket, and refusals of one', async () => {
    const tenant = randomUUID();
    const entry = randomUUID();
    const actor = { kind: 'user', userId: randomUUID(), sessionId: randomUUID() } as const;
    const { result, event } = await audited(
      tenant,
      createUpload,
      { input: { fileName: 'rechnung.pdf', journalEntryId: entry } },
      { actor },
    );
    const upload = result.data?.createDocumentUpload as { uploadUrl: string; expiresAt: string };
    assert.equal(event.action, 'document.upload_started');
    assert.equal(event.retention, 'accounting');
    assert.equal(event.source, 'documents');
    assert.equal(event.outcome, 'success');
    assert.equal(event.reason, null);
    assert.deepEqual(event.actor, { kind: 'user', userId: actor.userId, sessionId: actor.sessionId, mfa: false });
    assert.equal(event.targets.length, 1);
    assert.equal(event.targets[0]?.type, 'DocumentUpload');
    assert.match(event.targets[0]?.id ?? '', uuid);
    assert.equal(event.before, null);
    assert.deepEqual(event.after, { fileName: 'rechnung.pdf', journalEntryId: entry, expiresAt: upload.expiresAt });
    // The ticket is a bearer secret: neither it nor its hash reaches the trail.
    const ticket = upload.uploadUrl.split('/').at(-1) ?? '';
    const serialised = JSON.stringify(await eventsOf(tenant));
    assert.ok(!serialised.includes(ticket));
    assert.ok(!serialised.includes(createHash('sha256').update(ticket).digest('hex')));
    assert.ok(!serialised.includes(createHash('sha256').update(ticket).digest('base64')));

    const bad = await audited(tenant, createUpload, { input: { fileName: '../etc/passwd' } });
    assert.equal(bad.result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.deepEqual(
      [bad.event.action, bad.event.outcome, bad.event.reason],
      ['document.upload_started', 'failed', 'BAD_USER_INPUT'],
    );
    assert.deepEqual([bad.event.targets, bad.event.before, bad.event.after], [[], null, null]);

    const viewer = await audited(tenant, createUpload, { input: { fileName: 'a.pdf' } }, { role: 'VIEWER' });
    assert.equal(viewer.result.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.deepEqual([viewer.event.action, viewer.event.outcome], ['document.upload_started', 'denied']);
    assert.match(viewer.event.reason ?? '', /^FORBIDDEN/);
  });

  it('records a download link with the document it opens', async () => {
    const tenant = randomUUID();
    const { id } = await uploaded(tenant, 'quittung.pdf');
    const { result, event } = await audited(tenant, createDownload, { id });
    const link = result.data?.createDocumentDownload as { url: string; expiresAt: string };
    assert.deepEqual(
      {
        action: event.action,
        retention: event.retention,
        outcome: event.outcome,
        targets: event.targets,
        before: event.before,
        after: event.after,
      },
      {
        action: 'document.download_issued',
        retention: 'standard',
        outcome: 'success',
        targets: [{ type: 'Document', id }],
        before: null,
        after: { fileName: 'quittung.pdf', linkExpiresAt: link.expiresAt },
      },
    );
    assert.ok(!JSON.stringify(await eventsOf(tenant)).includes(link.url.split('/').at(-1) ?? ''));

    const missing = await audited(tenant, createDownload, { id: randomUUID() });
    assert.deepEqual([missing.event.outcome, missing.event.reason], ['failed', 'NOT_FOUND']);
    const viewer = await audited(tenant, createDownload, { id }, { role: 'VIEWER' });
    assert.equal(viewer.result.errors, undefined, 'a viewer may read documents');
    assert.equal(viewer.event.outcome, 'success');
  });

  it('records an attachment with the document and the entry, before and after', async () => {
    const tenant = randomUUID();
    const { id } = await uploaded(tenant, 'beleg.pdf');
    const entry = randomUUID();
    const image = { fileName: 'beleg.pdf', contentType: 'application/pdf', size: pdf.length, sha256: pdfSha256 };

    const { result, event } = await audited(tenant, attach, { id, e: entry });
    assert.deepEqual(result.data?.attachDocument, { id, journalEntry: { id: entry } });
    assert.deepEqual(
      [event.action, event.retention, event.outcome, event.targets, event.before, event.after],
      [
        'document.attached',
        'accounting',
        'success',
        [
          { type: 'Document', id },
          { type: 'JournalEntry', id: entry },
        ],
        { ...image, journalEntryId: null },
        { ...image, journalEntryId: entry },
      ],
    );

    const again = await audited(tenant, attach, { id, e: entry });
    assert.equal(again.result.errors, undefined);
    assert.deepEqual(
      [again.event.outcome, again.event.before, again.event.after],
      ['success', { ...image, journalEntryId: entry }, { ...image, journalEntryId: entry }],
    );

    const elsewhere = await audited(tenant, attach, { id, e: randomUUID() });
    assert.deepEqual(
      [elsewhere.event.outcome, elsewhere.event.reason, elsewhere.event.after],
      ['failed', 'BAD_USER_INPUT:DOCUMENT_BACKS_JOURNAL_ENTRY', null],
    );
    const viewer = await audited(tenant, attach, { id, e: entry }, { role: 'VIEWER' });
    assert.equal(viewer.event.outcome, 'denied');
  });

  it('records a deletion with what was deleted, and a refused one as refused', async () => {
    const tenant = randomUUID();
    const { id } = await uploaded(tenant, 'weg.pdf');

    const viewer = await audited(tenant, remove, { id }, { role: 'VIEWER' });
    assert.equal(viewer.result.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.deepEqual([viewer.event.action, viewer.event.outcome], ['document.deleted', 'denied']);

    const { result, event } = await audited(tenant, remove, { id });
    assert.deepEqual(result.data, { deleteDocument: true });
    assert.deepEqual(
      [event.action, event.retention, event.outcome, event.targets, event.before, event.after],
      [
        'document.deleted',
        'accounting',
        'success',
        [{ type: 'Document', id }],
        {
          fileName: 'weg.pdf',
          contentType: 'application/pdf',
          size: pdf.length,
          sha256: pdfSha256,
          journalEntryId: null,
        },
        null,
      ],
    );

    const gone = await audited(tenant, remove, { id });
    assert.deepEqual([gone.event.outcome, gone.event.reason, gone.event.targets], ['failed', 'NOT_FOUND', []]);
  });
});
