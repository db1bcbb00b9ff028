import { fileURLToPath } from 'node:url';
import type { ComposedGraph } from '../composition.ts';
import type { IdentityService } from '../identity-service.ts';

export type GatewayKey = 'vanilla' | 'vanilla-undici' | 'ours-off' | 'ours-on';

/** How the runner starts one gateway and what each load-test request looks like for it. */
export interface GatewayUnderTest {
  readonly key: GatewayKey;
  readonly label: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Whether the benchmark subgraphs demand a context signed by our gateway. */
  readonly signsContext: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface GatewaySettings {
  readonly graph: ComposedGraph;
  readonly operation: { readonly name: string; readonly body: string };
  readonly port: number;
  readonly subgraphUrls: Readonly<Record<string, string>>;
  readonly signingKey: string;
  /** Redis for the shared state of the secured gateway (rate limits); its own database number. */
  readonly redisUrl: string;
  readonly identity: IdentityService | null;
  readonly path: string | undefined;
}

const vanillaScript = fileURLToPath(new URL('./vanilla-main.ts', import.meta.url));
const oursScript = fileURLToPath(new URL('../../../gateway/src/main.ts', import.meta.url));
// The limits stay on; only their values are out of the benchmark's way (one client sends everything).
const highLimits = {
  GATEWAY_RATE_LIMIT_PER_IP: '10000000',
  GATEWAY_RATE_LIMIT_PER_API_KEY: '10000000',
  GATEWAY_RATE_LIMIT_PER_WORKSPACE: '10000000',
  // The deep query's estimated cost (every unbounded list counted as 50 items, seven levels deep)
  // is far over the default; the limit stays on at its highest setting.
  GATEWAY_MAX_COST: '100000000',
};

export function gatewaysUnderTest(settings: GatewaySettings): GatewayUnderTest[] {
  const { graph, operation, port } = settings;
  const textBody = JSON.stringify({ query: operation.body, operationName: operation.name });
  const json = { 'content-type': 'application/json' };
  const ours = {
    PATH: settings.path ?? '',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    GATEWAY_SUPERGRAPH_PATH: graph.supergraphPath,
    GATEWAY_PERSISTED_QUERY_MANIFEST: graph.manifestPath,
    CONTEXT_SIGNING_KEY: settings.signingKey,
    LOG_LEVEL: 'info',
    ...highLimits,
    ...Object.fromEntries(
      Object.entries(settings.subgraphUrls).map(([name, url]) => [`GATEWAY_SUBGRAPH_URL_${name.toUpperCase()}`, url]),
    ),
  };
  const gateways: GatewayUnderTest[] = [
    {
      key: 'vanilla',
      label: 'vanilla Apollo Gateway',
      script: vanillaScript,
      args: [graph.supergraphPath, String(port), 'default'],
      env: { PATH: settings.path ?? '', NODE_ENV: 'production' },
      signsContext: false,
      headers: json,
      body: textBody,
    },
    {
      key: 'vanilla-undici',
      label: 'vanilla + undici keep-alive',
      script: vanillaScript,
      args: [graph.supergraphPath, String(port), 'undici'],
      env: { PATH: settings.path ?? '', NODE_ENV: 'production' },
      signsContext: false,
      headers: json,
      body: textBody,
    },
    {
      key: 'ours-off',
      label: 'ours, security off',
      script: oursScript,
      args: [],
      // Authentication off is refused in production, so this one runs as development.
      env: { ...ours, NODE_ENV: 'development', GATEWAY_AUTH_MODE: 'off' },
      signsContext: true,
      headers: json,
      body: textBody,
    },
  ];
  if (settings.identity !== null) {
    gateways.push({
      key: 'ours-on',
      label: 'ours, security on',
      script: oursScript,
      args: [],
      env: {
        ...ours,
        NODE_ENV: 'production',
        GATEWAY_AUTH_MODE: 'session',
        GATEWAY_IDENTITY_URL: settings.identity.url,
        GATEWAY_FIELD_POLICY_PATH: graph.fieldPolicyPath,
        REDIS_URL: settings.redisUrl,
        // Metrics stay on in production behind their token.
        METRICS_TOKEN: 'bench-metrics-token-0123456789abcdef',
        // The audit plugin is on; no audit subgraph listens there, and the bench's requests are
        // all allowed, so it records nothing (a refusal would wait in its buffer).
        AUDIT_INGEST_URL: 'http://127.0.0.1:9/internal/audit/events',
        AUDIT_INGEST_TOKEN: 'bench-audit-ingest-token-0123456789abcdef',
      },
      signsContext: true,
      // A partner's API key, which may run trusted documents only: the operation goes by id.
      headers: { ...json, authorization: `Bearer ${settings.identity.apiKey}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: graph.operationId } } }),
    });
  }
  return gateways;
}
