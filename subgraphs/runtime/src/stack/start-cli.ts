// `npm start`: the whole graph on this machine with embedded databases, for development.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeStartupError } from '../server/run.ts';
import { ensureDevSeed, sampleQuery } from './dev-seed.ts';
import { defaultPorts, ServiceStartError, startStack } from './launch.ts';
import type { ServiceName } from './launch.ts';

const repoRoot = new URL('../../../../', import.meta.url);
const env = process.env;

if (env.NODE_ENV === 'production') {
  process.stderr.write('numezis: npm start is the development launcher; run each service on its own in production\n');
  process.exit(1);
}

const ports = Object.fromEntries(
  Object.entries(defaultPorts).map(([service, port]) => {
    const setting = env[`${service.toUpperCase()}_PORT`];
    return [service, setting === undefined || setting === '' ? port : Number(setting)];
  }),
) as Record<ServiceName, number>;

const baseEnv = {
  ...env,
  NODE_ENV: env.NODE_ENV ?? 'development',
  LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  // Until sessions exist, development callers name their workspace and user in headers.
  GATEWAY_AUTH_MODE: env.GATEWAY_AUTH_MODE ?? 'insecure-dev-headers',
};

process.stdout.write('numezis: starting identity, accounting, documents, audit and the gateway...\n');
let stack;
try {
  stack = await startStack({ repoRoot, ports, baseEnv, output: 'inherit' });
} catch (error) {
  const message = error instanceof ServiceStartError ? error.message : `cannot start: ${describeStartupError(error)}`;
  process.stderr.write(`numezis: ${message}\n`);
  process.exit(1);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nnumezis: stopping...\n');
  stack.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const dataDir = fileURLToPath(new URL('.data/', repoRoot));
await mkdir(dataDir, { recursive: true });
let hint = '';
if (baseEnv.GATEWAY_AUTH_MODE === 'insecure-dev-headers') {
  try {
    const seed = await ensureDevSeed(stack.gatewayUrl, `${dataDir}dev-seed.json`);
    hint =
      `curl -s ${stack.gatewayUrl} -H 'content-type: application/json' \\\n` +
      `  -H 'x-numezis-dev-workspace: ${seed.workspaceId}' -H 'x-numezis-dev-user: ${seed.userId}' \\\n` +
      `  -d '${JSON.stringify({ query: sampleQuery })}'\n`;
  } catch (error) {
    hint = `(demo data could not be created: ${(error as Error).message})\n`;
  }
}
process.stdout.write(
  `\nnumezis: the gateway is ready at ${stack.gatewayUrl}\n\nTry the demo workspace:\n\n${hint}\nPress Ctrl-C to stop.\n`,
);
