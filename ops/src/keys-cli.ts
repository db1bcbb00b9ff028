// `npm run keys -- <command>`: key rotation, re-wrapping and crypto-shredding across the services
// (usage: `npm run keys` without a command). Each service declares its keys and sealed data in its
// own key-maintenance module; this entry point only lists them.
import { keysCli } from '@numezis/runtime';
import { accountingKeyMaintenance } from '@numezis/accounting/key-maintenance';
import { documentsKeyMaintenance } from '@numezis/documents/key-maintenance';
import { identityKeyMaintenance } from '@numezis/identity/key-maintenance';

process.exitCode = await keysCli(
  process.argv.slice(2),
  process.env,
  [identityKeyMaintenance, accountingKeyMaintenance, documentsKeyMaintenance],
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
);
