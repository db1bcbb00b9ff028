import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DatabaseSettings } from '@numezis/runtime';
import { startPinned } from '../../pinned-process.ts';
import type { PinnedProcess } from '../../pinned-process.ts';

export type Mode = 'on' | 'off';

/** What the child needs to start both services; JSON, on its command line. */
export interface ServicesSettings {
  readonly verifyKey: string;
  readonly tenantId: string;
  readonly on: ServiceSettings;
  readonly off: ServiceSettings;
}

interface ServiceSettings {
  readonly port: number;
  readonly database: DatabaseSettings;
  /** A file: URL ending in a slash. */
  readonly migrationsDir: string;
}

/** What a service stored in the benchmark's workspace. */
export interface Stored {
  readonly contacts: number;
  readonly outboxRows: number;
  /** One contact's IBAN column as stored: sealed with encryption on, the IBAN itself without. */
  readonly storedIban: string | null;
}

export interface ServicesProcess {
  readonly process: PinnedProcess;
  stored(): Promise<Readonly<Record<Mode, Stored>>>;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./services-main.ts', import.meta.url));

/** Both accounting services in one process pinned to `cpu`, listening once this resolves. */
export async function startServices(options: {
  readonly cpu: number;
  readonly settings: ServicesSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<ServicesProcess> {
  const child = startPinned({
    cpu: options.cpu,
    script,
    args: [JSON.stringify(options.settings)],
    env: options.env,
    ipc: true,
  });
  const exited = once(child.child, 'exit').then(() => {
    throw new Error(`the accounting services stopped:\n${child.output()}`);
  });
  exited.catch(() => undefined);
  await Promise.race([once(child.child, 'message'), exited]);
  return {
    process: child,
    async stored() {
      const reply = Promise.race([once(child.child, 'message'), exited]) as Promise<
        [Record<Mode, Stored> | { error: string }]
      >;
      child.child.send('stored');
      const [answer] = await reply;
      if ('error' in answer) throw new Error(`reading what the services stored failed: ${answer.error}`);
      return answer;
    },
    stop: () => child.stop(),
  };
}
