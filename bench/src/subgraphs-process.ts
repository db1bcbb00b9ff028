import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startPinned } from './pinned-process.ts';
import type { PinnedProcess } from './pinned-process.ts';

export type SubgraphCounts = Readonly<Record<string, { readonly answered: number; readonly refused: number }>>;

export interface SubgraphsProcess {
  readonly process: PinnedProcess;
  counts(): Promise<SubgraphCounts>;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./subgraphs-main.ts', import.meta.url));

/** The scenario's subgraphs in one process on `cpu`; with `verifyKeys`, they demand our signed context. */
export async function startSubgraphs(options: {
  readonly cpu: number;
  readonly scenario: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly verifyKeys: string | null;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<SubgraphsProcess> {
  const child = startPinned({
    cpu: options.cpu,
    script,
    args: [JSON.stringify({ scenario: options.scenario, ports: options.ports, verifyKeys: options.verifyKeys })],
    env: options.env,
    ipc: true,
  });
  const exited = once(child.child, 'exit').then(() => {
    throw new Error(`the benchmark subgraphs stopped:\n${child.output()}`);
  });
  exited.catch(() => undefined);
  await Promise.race([once(child.child, 'message'), exited]);
  return {
    process: child,
    async counts() {
      const reply = once(child.child, 'message') as Promise<[SubgraphCounts]>;
      child.child.send('counts');
      return (await reply)[0];
    },
    stop: () => child.stop(),
  };
}
