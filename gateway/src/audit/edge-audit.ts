import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { otherAuditActions } from '@numezis/schema';
import { auditActorOf, auditTenantOf, requestOrigin } from '@numezis/runtime/audit/event';
import type { AuditEvent, JsonObject } from '@numezis/runtime/audit/event';
import type { AuditSender } from '@numezis/runtime/audit/audit-sender';
import type { Clock } from '@numezis/runtime/clock';
import type { ForwardedContext } from '@numezis/runtime/context/signed-context';

/** An operation the gateway refused before any subgraph saw it. */
export interface EdgeRefusal {
  readonly context: ForwardedContext;
  /** The error code, and its detail (a limit, a missing permission, ...). */
  readonly code: string;
  readonly detail?: string;
  /** What was refused: `Type.field`, `Operation.document`, `Request.authentication`, ... */
  readonly subject: string;
  readonly operationName?: string | null;
}

export interface EdgeAudit {
  record(refusal: EdgeRefusal): void;
  /** Delivers what is buffered now; resolves when the buffer is empty or delivery failed. */
  flush(): Promise<void>;
  /** A last delivery attempt within `timeoutMs`; what is left is counted as lost. */
  close(timeoutMs: number): Promise<void>;
}

interface Log {
  warn(entry: object, message: string): void;
}

export interface EdgeAuditOptions {
  /** Null when no audit subgraph is configured: refusals are logged and counted as lost. */
  readonly send: AuditSender | null;
  readonly clock: Clock;
  readonly log: Log;
  readonly registry: Registry;
  /** The most records held while the audit subgraph is unreachable; older ones are dropped first. */
  readonly capacity?: number;
  readonly batchSize?: number;
  readonly retryMs?: number;
}

/**
 * The gateway's audit plugin. State changes are recorded by the subgraphs (one event per mutation);
 * the gateway records what only it sees: operations refused at the edge. It has no database, so
 * records wait in a bounded in-memory buffer and are retried until the audit subgraph takes them.
 * A crash loses what is buffered: `numezis_gateway_audit_records_pending` shows how many were at
 * risk at the last scrape, and every record dropped on overflow or at shutdown is counted in
 * `numezis_gateway_audit_records_lost_total`.
 */
export function createEdgeAudit(options: EdgeAuditOptions): EdgeAudit {
  const capacity = options.capacity ?? 10_000;
  const batchSize = options.batchSize ?? 200;
  const retryMs = options.retryMs ?? 1_000;
  const pendingGauge = new Gauge({
    name: 'numezis_gateway_audit_records_pending',
    help: 'Edge refusals recorded by this gateway and not yet stored by the audit subgraph',
    registers: [options.registry],
  });
  const delivered = new Counter({
    name: 'numezis_gateway_audit_records_delivered_total',
    help: 'Edge refusals the audit subgraph has stored',
    registers: [options.registry],
  });
  const lost = new Counter({
    name: 'numezis_gateway_audit_records_lost_total',
    help: 'Edge refusals never delivered to the audit trail, by reason (overflow, shutdown, unconfigured)',
    labelNames: ['reason'],
    registers: [options.registry],
  });
  let buffer: AuditEvent[] = [];
  let sending: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const update = () => pendingGauge.set(buffer.length);

  const deliver = async (): Promise<void> => {
    const send = options.send;
    if (send === null) return;
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        await send(batch);
      } catch (error) {
        options.log.warn(
          { err: error, pending: buffer.length },
          'audit subgraph unreachable: edge refusals kept for retry',
        );
        schedule(retryMs);
        return;
      }
      // Only what was sent leaves the buffer; records added meanwhile stay behind it.
      buffer = buffer.filter((event) => !batch.includes(event));
      delivered.inc(batch.length);
      update();
    }
  };

  const kick = (): Promise<void> => {
    sending ??= deliver().finally(() => {
      sending = null;
    });
    return sending;
  };

  function schedule(delayMs: number): void {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void kick();
    }, delayMs);
    // A pending retry never keeps a stopping process alive.
    timer.unref();
  }

  return {
    record(refusal) {
      const { context } = refusal;
      const after: JsonObject = {
        subject: refusal.subject,
        ...(refusal.operationName ? { operationName: refusal.operationName.slice(0, 200) } : {}),
      };
      const event: AuditEvent = {
        id: randomUUID(),
        tenantId: auditTenantOf(context),
        source: 'gateway',
        action: otherAuditActions.gatewayRefused.action,
        retention: otherAuditActions.gatewayRefused.retention,
        actor: auditActorOf(context),
        targets: [{ type: 'operation', id: refusal.subject.slice(0, 200) }],
        before: null,
        // Never the variables or the document: only what was refused and why.
        after,
        outcome: 'denied',
        reason: [refusal.code, refusal.detail].filter(Boolean).join(':').slice(0, 200),
        ...requestOrigin(context),
        occurredAt: new Date(options.clock.now()).toISOString(),
      };
      if (options.send === null) {
        lost.inc({ reason: 'unconfigured' });
        return;
      }
      if (buffer.length >= capacity) {
        buffer.shift();
        lost.inc({ reason: 'overflow' });
      }
      buffer.push(event);
      update();
      schedule(0);
    },
    flush: kick,
    async close(timeoutMs) {
      closed = true;
      clearTimeout(timer);
      await Promise.race([kick(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
      if (buffer.length > 0) lost.inc({ reason: 'shutdown' }, buffer.length);
      buffer = [];
      update();
    },
  };
}
