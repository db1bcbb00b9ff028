import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationsDir as accountingMigrations } from '@numezis/accounting/paths';
import {
  contextHeader,
  createContextSigner,
  createTestDatabases,
  generateContextKeyPair,
  parseSigningKey,
  rolePermissions,
  systemClock,
} from '@numezis/runtime';
import type { Actor, ForwardedContext, RequestAccess, TestDatabases } from '@numezis/runtime';
import { freePorts } from '../../ports.ts';
import { busyPercent, cpuMs, cpuTicks } from '../../proc-stats.ts';
import { formatTable, median } from '../../report.ts';
import type { TargetCheck } from '../../report.ts';
import type { ServiceScenario, ServiceScenarioReport, ServiceScenarioSettings } from '../../scenario.ts';
import { driveMutation } from './drive.ts';
import type { MutationRequest } from './drive.ts';
import { swissIban } from './iban.ts';
import { plaintextMigrations } from './plaintext.ts';
import { startServices } from './services.ts';
import type { Mode, ServicesProcess } from './services.ts';

// Under 2 minutes in full, two PGlite start-ups included, so the whole bench stays under 15.
const plans = {
  full: { warmupS: 5, measureS: 12, rounds: 3 },
  quick: { warmupS: 2, measureS: 3, rounds: 1 },
} as const;
const connections = 10;
/** The issue's target: audit outbox and encryption cost at most this much latency. */
const maxCost = 0.15;

const labels: Readonly<Record<Mode, string>> = {
  on: 'audit outbox + encryption on',
  off: 'audit outbox + encryption off',
};

const createContact = `mutation CreateContact($input: CreateContactInput!) {
  createContact(input: $input) { id name address { street buildingNumber postcode town country } iban { electronic } }
}`;
const name = 'Bench Lieferant AG';
const address = { street: 'Bahnhofstrasse', buildingNumber: '1', postcode: '8001', town: 'Zürich', country: 'CH' };

/** The answer is the contact just created: its name, its whole address and its IBAN, read back. */
function answers(body: string, iban: string): boolean {
  let parsed: { data?: { createContact?: Record<string, unknown> | null } | null; errors?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return false;
  }
  const contact = parsed.data?.createContact;
  return (
    parsed.errors === undefined &&
    contact !== undefined &&
    contact !== null &&
    typeof contact.id === 'string' &&
    contact.name === name &&
    JSON.stringify(contact.address) === JSON.stringify(address) &&
    JSON.stringify(contact.iban) === JSON.stringify({ electronic: iban })
  );
}

interface Phase {
  readonly mode: Mode;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerRequest: number;
  readonly failures: number;
  readonly cpu0Busy: number;
}

export const mutationScenario: ServiceScenario = {
  name: 'mutation',
  description:
    "accounting's createContact straight at the subgraph (signed context, no gateway), with its audit outbox " +
    'row and sealed address and IBAN, against the same mutation with both off',
  async run(settings: ServiceScenarioSettings): Promise<ServiceScenarioReport> {
    const plan = settings.quick ? plans.quick : plans.full;
    const dir = await mkdtemp(join(tmpdir(), 'numezis-bench-mutation-'));
    const databases: TestDatabases[] = [];
    let services: ServicesProcess | undefined;
    try {
      // One throwaway database per side, so "off" can lose its sealed-format CHECKs.
      for (let side = 0; side < 2; side++) databases.push(await createTestDatabases(settings.env, ['accounting']));
      const [onDatabase, offDatabase] = databases;
      if (onDatabase === undefined || offDatabase === undefined) throw new Error('no databases');
      const [onPort = 0, offPort = 0] = await freePorts(2);
      const keys = generateContextKeyPair('bench');
      const tenantId = randomUUID();
      settings.log(
        `accounting twice (on, off) in one process alone on core ${settings.serviceCpu}, ${onDatabase.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'PGlite in that process'}; ` +
          `${plan.rounds} round(s) alternating on and off; warm-up ${plan.warmupS} s each, then ${plan.measureS} s at c${connections}`,
      );
      services = await startServices({
        cpu: settings.serviceCpu,
        env: { PATH: settings.env.PATH },
        settings: {
          verifyKey: keys.verifyKey,
          tenantId,
          on: {
            port: onPort,
            database: onDatabase.settingsFor('accounting'),
            migrationsDir: accountingMigrations.href,
          },
          off: {
            port: offPort,
            database: offDatabase.settingsFor('accounting'),
            migrationsDir: (await plaintextMigrations(accountingMigrations, join(dir, 'migrations'))).href,
          },
        },
      });
      const pid = services.process.pid;
      const urls: Record<Mode, string> = { on: `http://127.0.0.1:${onPort}`, off: `http://127.0.0.1:${offPort}` };

      // The gateway signs a fresh context per request; so does the load here, for one Admin of one workspace.
      const signer = createContextSigner({ key: parseSigningKey(keys.signingKey), clock: systemClock });
      const actor: Actor = { kind: 'user', userId: randomUUID(), sessionId: randomUUID() };
      const access: RequestAccess = { kind: 'tenant', tenantId, role: 'ADMIN', permissions: rolePermissions.ADMIN };
      const accepted: Record<Mode, number> = { on: 0, off: 0 };
      let accountNumber = 0;
      const nextRequest = (mode: Mode) => (): MutationRequest => {
        const iban = swissIban(accountNumber++);
        const context: ForwardedContext = {
          requestId: randomUUID(),
          clientIp: '127.0.0.1',
          userAgent: 'numezis-bench',
          actor,
          access,
          mfaAt: null,
          mfaRequired: false,
        };
        return {
          headers: { 'content-type': 'application/json', [contextHeader]: signer.sign(context, 'accounting') },
          body: JSON.stringify({
            query: createContact,
            variables: { input: { kind: 'SUPPLIER', name, address, iban } },
          }),
          accepts(status, body) {
            const right = status === 200 && answers(body, iban);
            if (right) accepted[mode]++;
            return right;
          },
        };
      };

      for (const mode of ['on', 'off'] as const) {
        const request = nextRequest(mode)();
        const response = await fetch(`${urls[mode]}/graphql`, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
        });
        const text = await response.text();
        if (!request.accepts(response.status, text)) {
          throw new Error(`${labels[mode]}: createContact answered ${response.status}: ${text.slice(0, 500)}`);
        }
      }
      for (const mode of ['on', 'off'] as const) {
        settings.log(`  ${labels[mode]}: warm-up ${plan.warmupS} s`);
        await driveMutation({ url: urls[mode], connections, durationS: plan.warmupS, next: nextRequest(mode) });
      }

      const phases: Phase[] = [];
      for (let round = 0; round < plan.rounds; round++) {
        settings.log(`round ${round + 1}`);
        // Alternating which side goes first keeps a drift (a growing table, a busy neighbour) off one side.
        for (const mode of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
          const cpuBefore = cpuMs(pid);
          const ticksBefore = cpuTicks();
          const result = await driveMutation({
            url: urls[mode],
            connections,
            durationS: plan.measureS,
            next: nextRequest(mode),
          });
          const busy = busyPercent(ticksBefore, cpuTicks());
          const phase: Phase = {
            mode,
            rps: result.rps,
            p50: result.p50,
            p99: result.p99,
            cpuMsPerRequest: result.requests === 0 ? NaN : (cpuMs(pid) - cpuBefore) / result.requests,
            failures: result.failures,
            cpu0Busy: busy.cpu0 ?? NaN,
          };
          phases.push(phase);
          settings.log(
            `  ${labels[mode]}: c${connections} ${phase.rps.toFixed(1)} req/s, p50 ${phase.p50.toFixed(1)} ms, p99 ${phase.p99.toFixed(1)} ms, ` +
              `${phase.cpuMsPerRequest.toFixed(2)} CPU ms/req, failures ${phase.failures}, ` +
              `cpu0 ${busy.cpu0?.toFixed(0)}% cpu${settings.serviceCpu} ${busy[`cpu${settings.serviceCpu}`]?.toFixed(0)}%`,
          );
        }
      }

      // A request in flight when a run stopped may still be committing.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const stored = await services.stored();
      checkStored(stored, accepted);
      settings.log(
        `stored: on ${stored.on.contacts} contacts and ${stored.on.outboxRows} outbox events, IBANs sealed; ` +
          `off ${stored.off.contacts} contacts and no outbox event, IBANs in plain text`,
      );
      return report(phases);
    } finally {
      await services?.stop();
      for (const database of databases) await database.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/**
 * The two sides really differ in what the seams say, and only there: every accepted answer left its
 * contact; "on" one outbox event per contact and sealed IBANs, "off" no event and IBANs as given.
 * Otherwise the comparison would measure something else, so the run stops.
 */
function checkStored(
  stored: Awaited<ReturnType<ServicesProcess['stored']>>,
  accepted: Readonly<Record<Mode, number>>,
): void {
  const problems: string[] = [];
  for (const mode of ['on', 'off'] as const) {
    if (stored[mode].contacts < accepted[mode]) {
      problems.push(`${mode}: ${stored[mode].contacts} contacts stored for ${accepted[mode]} answered`);
    }
  }
  if (stored.on.outboxRows !== stored.on.contacts) {
    problems.push(`on: ${stored.on.outboxRows} outbox events for ${stored.on.contacts} contacts`);
  }
  if (!/^v1\.\d+\./.test(stored.on.storedIban ?? '')) problems.push('on: the stored IBAN is not sealed');
  if (stored.off.outboxRows !== 0) problems.push(`off: ${stored.off.outboxRows} outbox events`);
  if (!/^CH\d{19}$/.test(stored.off.storedIban ?? '')) problems.push('off: the stored IBAN is not in plain text');
  if (problems.length > 0) throw new Error(`the mutation scenario measured the wrong thing: ${problems.join('; ')}`);
}

function report(phases: readonly Phase[]): ServiceScenarioReport {
  const rowOf = (mode: Mode) => {
    const own = phases.filter((phase) => phase.mode === mode);
    const of = (pick: (phase: Phase) => number) => median(own.map(pick));
    return {
      rps: of((phase) => phase.rps),
      p50: of((phase) => phase.p50),
      p99: of((phase) => phase.p99),
      cpuMsPerRequest: of((phase) => phase.cpuMsPerRequest),
      failures: own.reduce((sum, phase) => sum + phase.failures, 0),
      cpu0Busy: of((phase) => phase.cpu0Busy),
    };
  };
  const rows = { on: rowOf('on'), off: rowOf('off') };
  const ratio = (value: number, base: number) => (base === 0 ? '-' : `${(value / base).toFixed(2)}x`);
  const table = formatTable(
    [
      'createContact',
      'conns',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU ms/req',
      'p50 vs off',
      'p99 vs off',
      'req/s vs off',
      'failures',
      'core0 busy',
    ],
    (['on', 'off'] as const).map((mode) => {
      const row = rows[mode];
      return [
        labels[mode],
        `c${connections}`,
        row.rps.toFixed(1),
        row.p50.toFixed(1),
        row.p99.toFixed(1),
        row.cpuMsPerRequest.toFixed(2),
        ratio(row.p50, rows.off.p50),
        ratio(row.p99, rows.off.p99),
        ratio(row.rps, rows.off.rps),
        String(row.failures),
        `${row.cpu0Busy.toFixed(0)}%`,
      ];
    }),
  );
  const cost = rows.on.p50 / rows.off.p50 - 1;
  const p99Cost = rows.on.p99 / rows.off.p99 - 1;
  const met = cost <= maxCost;
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
  const checks: TargetCheck[] = [
    {
      target: `c${connections}: audit outbox + encryption cost <= ${maxCost * 100} % of createContact's p50 latency without them`,
      met,
      detail: `${percent(cost)}${met ? '' : `, gap ${((cost - maxCost) * 100).toFixed(1)} points`} (p99: ${percent(p99Cost)})`,
    },
  ];
  return { table, checks };
}
