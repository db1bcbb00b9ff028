import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface OutboxMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly sentAt: string;
}

/** The mails identity's development outbox holds for one address, oldest first. */
export async function mailsTo(outboxDir: string, address: string): Promise<OutboxMail[]> {
  const files = await readdir(outboxDir).catch(() => [] as string[]);
  const mails = await Promise.all(
    files
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map(async (file) => JSON.parse(await readFile(join(outboxDir, file), 'utf8')) as OutboxMail),
  );
  return mails.filter((mail) => mail.to === address.toLowerCase());
}

/** The one-time code in a mail from identity (43 base64url characters). */
export function codeIn(mail: OutboxMail | undefined): string {
  const code = mail === undefined ? undefined : /([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
  if (code === undefined) throw new Error(`no code in mail "${mail?.subject ?? '(none)'}"`);
  return code;
}
