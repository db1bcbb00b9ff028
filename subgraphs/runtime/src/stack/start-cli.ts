// `npm start`: the whole graph on this machine with embedded databases, for development.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeStartupError } from '../server/run.ts';
import { loadOrCreateDevKeys } from './dev-keys.ts';
import { ensureDevSeed, overviewRequest } from './dev-seed.ts';
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

const dataDir = fileURLToPath(new URL('.data/', repoRoot));
await mkdir(dataDir, { recursive: true });
const outboxDir = `${dataDir}outbox`;
const baseEnv = {
  ...(await loadOrCreateDevKeys(`${dataDir}dev-keys.json`)),
  ...env,
  NODE_ENV: env.NODE_ENV ?? 'development',
  LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  IDENTITY_MAIL_OUTBOX_DIR: env.IDENTITY_MAIL_OUTBOX_DIR ?? outboxDir,
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

let hint = '';
try {
  const seed = await ensureDevSeed(stack.gatewayUrl, baseEnv.IDENTITY_MAIL_OUTBOX_DIR, `${dataDir}dev-seed.json`);
  hint =
    `Query across all four subgraphs with the development API key (partners run trusted documents,\n` +
    `schema/persisted-operations/, by id; this one is WorkspaceOverview):\n\n` +
    `curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -H 'authorization: Bearer ${seed.apiKey}' \\\n` +
    `  -d '${JSON.stringify(await overviewRequest())}'\n\n` +
    `Or sign in as ${seed.email} with password ${seed.password}: signIn, then verifyTotp with a code\n` +
    `from an authenticator app set up with the secret ${seed.totpSecret}.\n` +
    `Mail (sign-up codes, invitations) lands in ${baseEnv.IDENTITY_MAIL_OUTBOX_DIR}.\n`;
} catch (error) {
  hint = `(demo data could not be created: ${(error as Error).message})\n`;
}
process.stdout.write(`\nnumezis: the gateway is ready at ${stack.gatewayUrl}\n\n${hint}\nPress Ctrl-C to stop.\n`);
