import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, GraphQLError } from 'graphql';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { isAuditedMutation, mutationAuditActions, otherAuditActions } from '@numezis/schema';
import type { AuditActionSpec } from '@numezis/schema';
import type { Clock } from '../clock.ts';
import type { ForwardedContext } from '../context/signed-context.ts';
import type { DataAccess } from '../db/data-access.ts';
import { afterCommit } from '../db/commit-hooks.ts';
import type { Tx } from '../db/database.ts';
import { ErrorCode } from '../errors.ts';
import type { DeniedAttempt } from '../security/access-denials.ts';
import { auditActorOf, auditTenantOf, requestOrigin } from './event.ts';
import type { AuditActor, AuditEvent, AuditOutcome, AuditTarget, JsonObject } from './event.ts';
import { appendToOutbox } from './outbox.ts';

/** What a mutation's resolver tells the trail about the change it makes. */
export interface AuditChange {
  readonly targets?: readonly AuditTarget[];
  readonly before?: JsonObject | null;
  readonly after?: JsonObject | null;
  /** The workspace whose trail records the change, when the request acts in none (a new workspace). */
  readonly tenantId?: string | null;
  /** When the change makes the actor (a sign-in): who is now acting. */
  readonly actor?: AuditActor;
}

interface MutationAudit {
  readonly service: string;
  readonly clock: Clock;
  readonly eventId: string;
  readonly spec: AuditActionSpec;
  readonly context: ForwardedContext;
  /** Set once the transaction in which a resolver wrote its change's event has committed. */
  committed: boolean;
}

// The benchmark's scope without an audit trail (`withoutAuditTrail`): auditChange writes nothing there.
const unrecorded = Symbol('unrecorded');
const current = new AsyncLocalStorage<MutationAudit | typeof unrecorded>();

function eventOf(
  audit: Omit<MutationAudit, 'committed'>,
  change: AuditChange,
  outcome: AuditOutcome,
  reason: string | null,
): AuditEvent {
  const { context, spec } = audit;
  return {
    id: audit.eventId,
    tenantId: change.tenantId !== undefined ? change.tenantId : auditTenantOf(context),
    source: audit.service,
    action: spec.action,
    retention: spec.retention,
    actor: change.actor ?? auditActorOf(context),
    targets: change.targets ?? [],
    before: change.before ?? null,
    after: change.after ?? null,
    outcome,
    reason,
    ...requestOrigin(context),
    occurredAt: new Date(audit.clock.now()).toISOString(),
  };
}

/**
 * Writes the running mutation's audit event in `tx`, the transaction of the change itself, so the
 * change and its event commit or vanish together. Once one such transaction committed, the
 * mutation's event exists: a second call is a bug and fails.
 */
export async function auditChange(tx: Tx, change: AuditChange): Promise<void> {
  const audit = current.getStore();
  if (audit === undefined) throw new Error('auditChange called outside an audited mutation');
  if (audit === unrecorded) return;
  if (audit.committed) throw new Error(`${audit.spec.action} recorded its change twice`);
  await appendToOutbox(tx, audit.service, eventOf(audit, change, 'success', null));
  afterCommit(tx, () => {
    audit.committed = true;
  });
}

/**
 * For the benchmark only (`BenchmarkSeams.recordAudit: false`): runs a mutation's resolver in a
 * scope where `auditChange` writes nothing, to measure what the audit outbox costs. Outside both
 * this scope and an audited mutation, `auditChange` still fails.
 */
export function withoutAuditTrail<T>(work: () => T): T {
  return current.run(unrecorded, work);
}

/**
 * The audit event of a state change made outside GraphQL (a file upload route), written in `tx`,
 * the transaction of the change, like a mutation's.
 */
export async function recordAuditEvent(
  tx: Tx,
  options: { readonly service: string; readonly clock: Clock },
  context: ForwardedContext,
  spec: AuditActionSpec,
  change: AuditChange,
): Promise<void> {
  const event = eventOf({ ...options, eventId: randomUUID(), spec, context }, change, 'success', null);
  await appendToOutbox(tx, options.service, event);
}

function outcomeOf(error: unknown): { outcome: AuditOutcome; reason: string } {
  const code = error instanceof GraphQLError ? (error.extensions.code as string | undefined) : undefined;
  const detail = error instanceof GraphQLError ? (error.extensions.reason as string | undefined) : undefined;
  const reason = [code ?? ErrorCode.INTERNAL_SERVER_ERROR, detail].filter(Boolean).join(':').slice(0, 200);
  return { outcome: code === ErrorCode.FORBIDDEN || code === ErrorCode.UNAUTHENTICATED ? 'denied' : 'failed', reason };
}

interface Log {
  error(entry: object, message: string): void;
}

export interface MutationAuditOptions {
  readonly service: string;
  readonly dataAccess: DataAccess;
  readonly clock: Clock;
  readonly log: Log;
}

/** An event written in a transaction of its own: for attempts that changed nothing. */
function appendAlone(options: MutationAuditOptions, event: AuditEvent): Promise<void> {
  const write = (tx: Tx) => appendToOutbox(tx, options.service, event);
  return event.tenantId === null
    ? options.dataAccess.unsafeUnscoped(write)
    : options.dataAccess.inTenant(event.tenantId, write);
}

/**
 * Wraps every mutation of the schema so each call leaves exactly one audit event: the resolver's
 * own (`auditChange`, in the change's transaction) when it succeeds, or a denied or failed one when
 * it throws, whatever refused it (access directives run inside this wrapper). A mutation the
 * catalogue does not know is refused outright: nothing changes state unrecorded.
 */
export function auditMutationsTransformer(options: MutationAuditOptions): (schema: GraphQLSchema) => GraphQLSchema {
  return (schema) =>
    mapSchema(schema, {
      [MapperKind.MUTATION_ROOT_FIELD]: (field, fieldName) => {
        const coordinate = `Mutation.${fieldName}`;
        const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
        if (!isAuditedMutation(coordinate)) {
          throw new Error(`${coordinate} has no action in the audit catalogue (schema/src/audit-actions.ts)`);
        }
        const spec = mutationAuditActions[coordinate];
        const audited: GraphQLFieldResolver<unknown, unknown> = async (source, args, context, info) => {
          const forwarded = (context as { forwarded?: ForwardedContext }).forwarded;
          if (forwarded === undefined) throw new Error('mutation without a forwarded context');
          const audit: MutationAudit = {
            service: options.service,
            clock: options.clock,
            eventId: randomUUID(),
            spec,
            context: forwarded,
            committed: false,
          };
          let result: unknown;
          try {
            result = await current.run(audit, () => resolve(source, args, context, info));
          } catch (error) {
            // The change and its event committed; what failed afterwards changes nothing recorded.
            if (audit.committed) throw error;
            const { outcome, reason } = outcomeOf(error);
            await appendAlone(options, eventOf(audit, {}, outcome, reason)).catch((writeError: unknown) =>
              options.log.error(
                { err: writeError, action: spec.action },
                'audit event of a refused mutation not written',
              ),
            );
            throw error;
          }
          if (!audit.committed) {
            // A resolver that changed nothing of its own service's data (it only mailed, say).
            await appendAlone(options, eventOf(audit, {}, 'success', null));
          }
          return result;
        };
        return { ...field, resolve: audited };
      },
    });
}

/**
 * Records refused reads (FORBIDDEN, UNAUTHENTICATED) as `access.denied` events. Refused mutations
 * are recorded by the mutation wrapper, and by-id misses stay in the logs and metrics only.
 */
export function auditDeniedReads(options: MutationAuditOptions): (attempt: DeniedAttempt) => void {
  const spec = otherAuditActions.accessDenied;
  return (attempt) => {
    if (attempt.code === 'NOT_FOUND' || attempt.field.startsWith('Mutation.')) return;
    const event = eventOf(
      { service: options.service, clock: options.clock, eventId: randomUUID(), spec, context: attempt.context },
      { targets: [{ type: 'field', id: attempt.field }] },
      'denied',
      [attempt.code, attempt.reason].filter(Boolean).join(':').slice(0, 200),
    );
    appendAlone(options, event).catch((error: unknown) =>
      options.log.error({ err: error, field: attempt.field }, 'audit event of a refused read not written'),
    );
  };
}
