import type { ServiceKeyMaintenance } from '@numezis/runtime';
import { defaultDataDir } from './paths.ts';
import { accounts, journalEntries, sealedTables } from './tables.ts';

/**
 * Accounting's part in the key commands: its sealed columns are re-encrypted after a rotation, and
 * its books stop a crypto-shredding. Swiss law (art. 958f CO) keeps accounting records for ten
 * years after the end of their business year; until per-record retention exists, any account or
 * journal entry keeps the workspace's keys alive.
 */
export const accountingKeyMaintenance: ServiceKeyMaintenance = {
  service: { name: 'accounting', defaultDataDir },
  workspaceKeys: true,
  sealedTables,
  async shredRefusal(dataAccess, tenantId) {
    const kept = await dataAccess.inTenant(tenantId, async (tx) => {
      const entries = await tx.select({ id: journalEntries.id }).from(journalEntries).limit(1);
      if (entries.length > 0) return true;
      return (await tx.select({ id: accounts.id }).from(accounts).limit(1)).length > 0;
    });
    return kept
      ? 'the workspace has accounts or journal entries, accounting records kept readable for their legal retention period (10 years, art. 958f CO)'
      : undefined;
  },
};
