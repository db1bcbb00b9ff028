import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEventView } from '../store/event-view.ts';
import { neutraliseFormula, renderExport } from './audit-export.ts';

const event: AuditEventView = {
  tenantId: '7a1c8f0e-4b7e-4a53-9d3c-2f1e0b6a9c11',
  id: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
  sequence: 7,
  action: 'contact.created',
  source: 'accounting',
  outcome: 'SUCCESS',
  reason: null,
  occurredAt: '2026-12-07T10:00:00.000Z',
  recordedAt: '2026-12-07T10:00:01.000Z',
  actorUserId: null,
  performedBy: { kind: 'API_KEY', id: '0f0e0d0c-0b0a-4908-8706-050403020100', sessionId: null, mfa: null },
  targets: [{ type: 'Contact', id: 'c1' }],
  before: null,
  after: JSON.stringify({ name: '=HYPERLINK("http://evil.example","click")', note: 'a "quoted", text' }),
  requestId: 'r-1',
  ip: '203.0.113.9',
  userAgent: '@curl/8',
  retention: 'ACCOUNTING',
  statutoryUntil: null,
  hash: 'ab'.repeat(32),
};

describe('audit export', () => {
  it('neutralises every cell a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      assert.equal(neutraliseFormula(`${start}1+1`), `'${start}1+1`);
    assert.equal(neutraliseFormula('plain'), 'plain');
  });

  it('writes CSV with quoted cells and no live formula', () => {
    const { content, contentType } = renderExport('CSV', [{ ...event, action: '=cmd|calc', reason: '-1' }]);
    assert.equal(contentType, 'text/csv; charset=utf-8');
    const [header, row] = content.split('\r\n');
    assert.match(header ?? '', /^sequence,occurredAt,/);
    assert.match(
      row ?? '',
      /^7,2026-12-07T10:00:00.000Z,2026-12-07T10:00:01.000Z,'=cmd\|calc,accounting,SUCCESS,'-1,API_KEY,/,
    );
    assert.match(row ?? '', /,'@curl\/8,/);
    // The after-image is JSON beginning with "{": not a formula, quoted because of its commas and quotes.
    assert.match(row ?? '', /,"\{""name"":""=HYPERLINK/);
  });

  it('writes one JSON object per line without the workspace id', () => {
    const { content } = renderExport('JSON_LINES', [event, { ...event, sequence: 8 }]);
    const lines = content.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(first.sequence, 7);
    assert.equal(first.tenantId, undefined);
    assert.deepEqual(first.after, { name: '=HYPERLINK("http://evil.example","click")', note: 'a "quoted", text' });
  });
});
