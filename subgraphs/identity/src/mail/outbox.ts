import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * Development and test delivery: each mail becomes a JSON file in a folder that a developer or a
 * test reads. Mail bodies carry one-time links, so the folder stays out of git (.data/).
 */
export function fileOutbox(dir: string, now: () => number): Mailer {
  return {
    async send(mail) {
      await mkdir(dir, { recursive: true });
      const name = `${new Date(now()).toISOString().replaceAll(':', '-')}-${randomUUID()}.json`;
      await writeFile(join(dir, name), JSON.stringify({ ...mail, sentAt: new Date(now()).toISOString() }, null, 2), {
        mode: 0o600,
      });
    },
  };
}
