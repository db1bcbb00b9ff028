// Starts the shared stack once per `node --test` run; test files find it through the environment.
import { startTestStack } from './test-stack.ts';
import type { TestStack } from './test-stack.ts';

let stack: TestStack | undefined;

export async function globalSetup(): Promise<void> {
  stack = await startTestStack();
  process.env.NUMEZIS_E2E_STACK = JSON.stringify({
    gatewayUrl: stack.gatewayUrl,
    ports: stack.ports,
    signingKey: stack.signingKey,
    databaseKind: stack.databaseKind,
    outboxDir: stack.outboxDir,
  });
}

export async function globalTeardown(): Promise<void> {
  await stack?.close();
}
