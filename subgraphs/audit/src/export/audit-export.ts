import type { AuditEventView } from '../store/event-view.ts';

export type ExportFormat = 'JSON_LINES' | 'CSV';

const csvColumns = [
  'sequence',
  'occurredAt',
  'recordedAt',
  'action',
  'source',
  'outcome',
  'reason',
  'actorKind',
  'actorId',
  'sessionId',
  'mfa',
  'targets',
  'before',
  'after',
  'requestId',
  'ip',
  'userAgent',
  'retention',
  'hash',
] as const;

/**
 * A cell a spreadsheet would take for a formula (OWASP CSV injection): one that begins with =, +,
 * -, @, a tab or a carriage return gets a leading apostrophe, so it is shown as the text it is.
 */
export function neutraliseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = neutraliseFormula(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(event: AuditEventView): string {
  const cells: Record<(typeof csvColumns)[number], string | number | boolean | null> = {
    sequence: event.sequence,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    action: event.action,
    source: event.source,
    outcome: event.outcome,
    reason: event.reason,
    actorKind: event.performedBy.kind,
    actorId: event.performedBy.id,
    sessionId: event.performedBy.sessionId,
    mfa: event.performedBy.mfa,
    targets: event.targets.map((target) => `${target.type}:${target.id}`).join(' '),
    before: event.before,
    after: event.after,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    retention: event.retention,
    hash: event.hash,
  };
  return csvColumns.map((column) => csvCell(cells[column])).join(',');
}

/** The audit-owned fields of each event, without the workspace id the whole export belongs to. */
function jsonLine(event: AuditEventView): string {
  return JSON.stringify({
    id: event.id,
    sequence: event.sequence,
    action: event.action,
    source: event.source,
    outcome: event.outcome,
    reason: event.reason,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    performedBy: event.performedBy,
    targets: event.targets,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    retention: event.retention,
    hash: event.hash,
    before: event.before === null ? null : (JSON.parse(event.before) as unknown),
    after: event.after === null ? null : (JSON.parse(event.after) as unknown),
  });
}

export function renderExport(
  format: ExportFormat,
  events: readonly AuditEventView[],
): { contentType: string; content: string } {
  if (format === 'CSV') {
    return {
      contentType: 'text/csv; charset=utf-8',
      content: [csvColumns.join(','), ...events.map(csvRow)].join('\r\n') + '\r\n',
    };
  }
  return {
    contentType: 'application/jsonl; charset=utf-8',
    content: events.map((event) => `${jsonLine(event)}\n`).join(''),
  };
}
