import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base32Decode,
  codeIn,
  createTestDatabases,
  currentStep,
  mailsTo,
  startStack,
  subgraphNames,
  systemClock,
  totpCode,
} from '@numezis/runtime';
import type { Env, ServiceName } from '@numezis/runtime';
import { freePorts } from './ports.ts';

/** The real identity service, holding one workspace and a partner API key of it. */
export interface IdentityService {
  /** Identity's GraphQL URL: the gateway finds its resolution routes beside it. */
  readonly url: string;
  readonly apiKey: string;
  readonly workspaceId: string;
  close(): Promise<void>;
}

const repoRoot = new URL('../../', import.meta.url);

/**
 * "Security on" needs a real caller: the whole stack starts once (embedded PGlite unless
 * DATABASE_URL names a PostgreSQL server), a person signs up through our gateway, confirms the
 * mail, enrols TOTP, creates a workspace and a VIEWER API key, exactly as a customer would. Then
 * everything but identity stops; the benchmark's gateway resolves the key there on every request.
 */
export async function startIdentityWithApiKey(options: {
  readonly env: Env;
  readonly signingKey: string;
  readonly verifyKey: string;
}): Promise<IdentityService> {
  const databases = await createTestDatabases(options.env, subgraphNames);
  const dir = await mkdtemp(join(tmpdir(), 'numezis-bench-'));
  const outboxDir = join(dir, 'outbox');
  const [gateway, identity, accounting, documents, audit] = await freePorts(5);
  const ports = { gateway, identity, accounting, documents, audit } as Record<ServiceName, number>;
  const cleanUp = async () => {
    await databases.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  let stack;
  try {
    stack = await startStack({
      repoRoot,
      ports,
      databases: Object.fromEntries(subgraphNames.map((name) => [name, databases.settingsFor(name)])),
      baseEnv: {
        PATH: options.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        CONTEXT_SIGNING_KEY: options.signingKey,
        CONTEXT_VERIFY_KEYS: options.verifyKey,
        KMS_LOCAL_KEY_FILE: join(dir, 'local-kms-key.json'),
      },
      serviceEnv: {
        identity: { IDENTITY_MAIL_OUTBOX_DIR: outboxDir },
        documents: { DOCUMENTS_BLOB_DIR: join(dir, 'blobs') },
      },
      output: 'capture',
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  try {
    const minted = await mintApiKey(stack.gatewayUrl, outboxDir);
    await stack.stop('gateway');
    await Promise.all((['accounting', 'documents', 'audit'] as const).map((name) => stack.stop(name)));
    return {
      url: `http://127.0.0.1:${ports.identity}/graphql`,
      ...minted,
      async close() {
        await stack.close();
        await cleanUp();
      },
    };
  } catch (error) {
    await stack.close();
    await cleanUp();
    throw error;
  }
}

async function mintApiKey(gatewayUrl: string, outboxDir: string): Promise<{ apiKey: string; workspaceId: string }> {
  const person = { email: `bench-${Date.now()}@example.ch`, password: 'benchmark password 2026', displayName: 'Bench' };
  await call(gatewayUrl, undefined, 'mutation ($input: SignUpInput!) { signUp(input: $input) }', { input: person });
  const token = codeIn((await mailsTo(outboxDir, person.email)).at(-1));
  await call(gatewayUrl, undefined, 'mutation ($token: String!) { verifyEmail(token: $token) }', { token });
  const signedIn = await call(
    gatewayUrl,
    undefined,
    'mutation ($input: SignInInput!) { signIn(input: $input) { mfaPending } }',
    {
      input: { email: person.email, password: person.password },
    },
  );
  let cookie = signedIn.cookie;
  const enrolment = await call<{ beginTotpEnrolment: { secret: string } }>(
    gatewayUrl,
    cookie,
    'mutation { beginTotpEnrolment { secret } }',
  );
  // Creating a key needs a recent second factor; confirming the enrolment is one.
  const confirmed = await call(gatewayUrl, cookie, 'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }', {
    code: totpCode(base32Decode(enrolment.data.beginTotpEnrolment.secret), currentStep(systemClock)),
  });
  cookie = confirmed.cookie ?? cookie;
  const workspace = await call<{ createWorkspace: { id: string } }>(
    gatewayUrl,
    cookie,
    'mutation { createWorkspace(input: { name: "Bench AG" }) { id } }',
  );
  const key = await call<{ createApiKey: { secret: string } }>(
    gatewayUrl,
    cookie,
    'mutation { createApiKey(input: { name: "Benchmark", role: VIEWER }) { secret } }',
  );
  return { apiKey: key.data.createApiKey.secret, workspaceId: workspace.data.createWorkspace.id };
}

async function call<Data = unknown>(
  gatewayUrl: string,
  cookie: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data: Data; cookie: string | undefined }> {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: { message: string }[] };
  if (body.errors !== undefined || body.data === undefined) {
    throw new Error(`minting the benchmark API key failed: ${body.errors?.map((error) => error.message).join('; ')}`);
  }
  return { data: body.data, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? undefined };
}
