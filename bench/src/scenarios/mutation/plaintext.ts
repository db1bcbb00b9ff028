import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FieldCipher } from '@numezis/runtime';

/**
 * "Encryption off": the values as given, and the normalised value as its own blind index, which
 * keeps the one-contact-per-IBAN rule working at the price of nothing but the comparison.
 */
export const plaintextFieldCipher: FieldCipher = {
  encryptField: async (_ref, plaintext) => plaintext,
  decryptField: async (_ref, stored) => stored,
  blindIndex: async (_ref, normalisedValue) => normalisedValue,
};

// Accounting's CHECKs refuse anything but a sealed value in a sealed column (0004), so the "off"
// database, a throwaway one of this run, loses them; every other constraint stays. The table
// owner may drop them, so this runs as the service's last migration, on PGlite and PostgreSQL alike.
const dropSealedFormatChecks = `-- The benchmark's plaintext copy of accounting (bench/src/scenarios/mutation): never shipped.
DO $$
DECLARE
  constraint_name text;
BEGIN
  FOR constraint_name IN
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'accounting.contacts'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%v1%'
  LOOP
    EXECUTE format('ALTER TABLE accounting.contacts DROP CONSTRAINT %I', constraint_name);
  END LOOP;
END $$;
`;

/**
 * A copy of accounting's migrations in `dir` with one more that drops the sealed-format CHECKs of
 * its contacts; returns the folder's URL for the "off" service's definition.
 */
export async function plaintextMigrations(source: URL, dir: string): Promise<URL> {
  await mkdir(dir, { recursive: true });
  const files = (await readdir(source)).filter((file) => file.endsWith('.sql')).sort();
  for (const file of files) await copyFile(new URL(file, source), join(dir, file));
  const next = String(files.length + 1).padStart(4, '0');
  await writeFile(join(dir, `${next}_bench_plaintext_contacts.sql`), dropSealedFormatChecks);
  return pathToFileURL(`${dir}/`);
}
