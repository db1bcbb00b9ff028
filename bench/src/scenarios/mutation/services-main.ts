// Child process: accounting twice, with audit outbox and encryption ("on") and without ("off"), each
// on its own port and database, until SIGTERM. The parent asks for what they stored over IPC.
import { randomBytes } from 'node:crypto';
import { accountingSubgraph } from '@numezis/accounting/definition';
import { contacts } from '@numezis/accounting/tables';
import { createSubgraphService, readSubgraphConfig, systemAccess } from '@numezis/runtime';
import type { SubgraphService } from '@numezis/runtime';
import { auditRelayJobName, outboxTable } from '@numezis/runtime/audit/outbox';
import type { BenchmarkSeams } from '@numezis/runtime/server/subgraph-service';
import { plaintextFieldCipher } from './plaintext.ts';
import type { Mode, ServicesSettings, Stored } from './services.ts';

const settings = JSON.parse(process.argv[2] ?? '{}') as ServicesSettings;

async function start(mode: Mode): Promise<SubgraphService> {
  const { port, database, migrationsDir } = settings[mode];
  const definition = { ...accountingSubgraph, migrationsDir: new URL(migrationsDir) };
  const config = readSubgraphConfig(
    {
      CONTEXT_VERIFY_KEYS: settings.verifyKey,
      // Request logs would be part of both sides' cost and measure nothing of interest.
      LOG_LEVEL: 'warn',
      KMS_LOCAL_MASTER_KEY: randomBytes(32).toString('base64url'),
    },
    definition,
  );
  const seams: BenchmarkSeams = mode === 'on' ? {} : { recordAudit: false, fieldCipher: () => plaintextFieldCipher };
  const service = await createSubgraphService(definition, { ...config, database }, {}, seams);
  await service.app.listen({ host: '127.0.0.1', port });
  return service;
}

/** What one service stored: its contacts, its outbox rows, and one stored IBAN as the database holds it. */
async function stored(service: SubgraphService): Promise<Stored> {
  const outbox = outboxTable('accounting');
  const outboxRows = await service.dataAccess.unsafeAsSystem(systemAccess(auditRelayJobName('accounting')), (tx) =>
    tx.$count(outbox),
  );
  return service.dataAccess.inTenant(settings.tenantId, async (tx) => {
    const [sample] = await tx.select({ iban: contacts.iban }).from(contacts).limit(1);
    return { contacts: await tx.$count(contacts), outboxRows, storedIban: sample?.iban ?? null };
  });
}

const services = { on: await start('on'), off: await start('off') };

process.on('message', (message) => {
  if (message !== 'stored') return;
  Promise.all([stored(services.on), stored(services.off)]).then(
    ([on, off]) => process.send?.({ on, off }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.on('SIGTERM', () => {
  Promise.all([services.on.close(), services.off.close()]).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
process.send?.('ready');
