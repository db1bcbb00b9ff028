import { isNotNull } from 'drizzle-orm';
import type { ServiceKeyMaintenance } from '@numezis/runtime';
import { defaultDataDir } from './paths.ts';
import { documentsTable } from './tables.ts';

/**
 * Documents' part in the key commands: files are sealed under the workspace's field key, each naming
 * its key version, so a rotation leaves them as they are (the old version stays readable). A receipt
 * (a document that backs a journal entry) is an accounting record and stops a crypto-shredding.
 */
export const documentsKeyMaintenance: ServiceKeyMaintenance = {
  service: { name: 'documents', defaultDataDir },
  workspaceKeys: true,
  async shredRefusal(dataAccess, tenantId) {
    const receipts = await dataAccess.inTenant(tenantId, (tx) =>
      tx
        .select({ id: documentsTable.id })
        .from(documentsTable)
        .where(isNotNull(documentsTable.journalEntryId))
        .limit(1),
    );
    return receipts.length > 0
      ? 'the workspace has receipts of journal entries, accounting records kept readable for their legal retention period (10 years, art. 958f CO)'
      : undefined;
  },
};
