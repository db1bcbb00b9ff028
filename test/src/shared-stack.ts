import type { ServiceName, SubgraphName } from '@numezis/runtime';

export interface SharedStack {
  readonly gatewayUrl: string;
  readonly ports: Readonly<Record<ServiceName, number>>;
  readonly signingKey: string;
  readonly databaseKind: 'postgres' | 'pglite';
  readonly outboxDir: string;
}

/** The stack started by global-setup.ts for this run. */
export function sharedStack(): SharedStack & { subgraphUrl(name: SubgraphName): string; origin: string } {
  const text = process.env.NUMEZIS_E2E_STACK;
  if (text === undefined) throw new Error('run end-to-end tests through `npm test` (global setup starts the stack)');
  const stack = JSON.parse(text) as SharedStack;
  return {
    ...stack,
    origin: `http://127.0.0.1:${stack.ports.gateway}`,
    subgraphUrl: (name) => `http://127.0.0.1:${stack.ports[name]}/graphql`,
  };
}
