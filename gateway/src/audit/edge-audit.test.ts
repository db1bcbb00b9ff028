import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { systemClock } from '@numezis/runtime/clock';
import { anonymousContext } from '@numezis/runtime/context/signed-context';
import type { AuditEvent } from '@numezis/runtime/audit/event';
import { createEdgeAudit } from './edge-audit.ts';

const context = anonymousContext({ requestId: 'req-1', clientIp: '203.0.113.5', userAgent: 'test' });
const log = { warn: () => undefined };

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = found?.values.find((entry) =>
    Object.entries(labels).every(([key, label]) => entry.labels[key] === label),
  );
  return value?.value ?? 0;
}

describe('gateway audit of edge refusals', () => {
  it('keeps refusals while the audit subgraph is unreachable and delivers each once it answers', async () => {
    const registry = new Registry();
    const delivered: AuditEvent[] = [];
    let reachable = false;
    let retried: () => void = () => undefined;
    const retry = new Promise<void>((resolve) => {
      retried = resolve;
    });
    const audit = createEdgeAudit({
      send: async (events) => {
        if (!reachable) {
          reachable = true;
          throw new Error('connect ECONNREFUSED');
        }
        delivered.push(...events);
        retried();
      },
      clock: systemClock,
      log,
      registry,
      retryMs: 10,
    });
    audit.record({ context, code: 'FORBIDDEN', subject: 'Mutation.createAccount', detail: 'accounting.write' });
    audit.record({ context, code: 'OPERATION_LIMIT_EXCEEDED', subject: 'Operation.document', detail: 'depth' });
    await retry;
    await audit.flush();
    assert.deepEqual(
      delivered.map((event) => [event.source, event.action, event.outcome, event.reason, event.requestId]),
      [
        ['gateway', 'gateway.operation_refused', 'denied', 'FORBIDDEN:accounting.write', 'req-1'],
        ['gateway', 'gateway.operation_refused', 'denied', 'OPERATION_LIMIT_EXCEEDED:depth', 'req-1'],
      ],
    );
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_delivered_total'), 2);
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_pending'), 0);
    await audit.close(100);
  });

  it('counts what it had to drop: the oldest on overflow, the rest at shutdown', async () => {
    const registry = new Registry();
    const audit = createEdgeAudit({
      send: () => Promise.reject(new Error('down')),
      clock: systemClock,
      log,
      registry,
      capacity: 2,
      retryMs: 60_000,
    });
    for (let index = 0; index < 3; index++)
      audit.record({ context, code: 'UNAUTHENTICATED', subject: 'Request.authentication' });
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_lost_total', { reason: 'overflow' }), 1);
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_pending'), 2);
    await audit.close(50);
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_lost_total', { reason: 'shutdown' }), 2);
    assert.equal(await metric(registry, 'numezis_gateway_audit_records_pending'), 0);
  });
});
