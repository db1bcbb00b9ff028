import { fileURLToPath } from 'node:url';
import { readAuditIngestSettings } from '@numezis/runtime/config/audit-ingest';
import { readCommonConfig } from '@numezis/runtime/config/common';
import { createConfigReader } from '@numezis/runtime/config/reader';
import { parseSigningKey } from '@numezis/runtime/context/signed-context';
import type { AuditIngestSettings } from '@numezis/runtime/config/audit-ingest';
import type { CommonConfig } from '@numezis/runtime/config/common';
import type { Env } from '@numezis/runtime/config/reader';
import type { SigningKey } from '@numezis/runtime/context/signed-context';
import { defaultOperationLimits } from './edge/operation-limits.ts';
import type { OperationLimits } from './edge/operation-limits.ts';
import { defaultRateLimits } from './edge/rate-limits.ts';
import type { RateLimits } from './edge/rate-limits.ts';

export const authModes = ['session', 'off'] as const;
/**
 * - `session`: callers authenticate with the session cookie that identity issues at sign-in; the
 *   supergraph must have an `identity` subgraph.
 * - `off`: no authentication, every caller is anonymous; for serving a foreign supergraph in
 *   development. Refused in production.
 */
export type AuthMode = (typeof authModes)[number];

export interface GatewayConfig extends CommonConfig {
  readonly host: string;
  readonly port: number;
  readonly supergraphPath: string;
  /** Subgraph name → URL, replacing the URL composed into the supergraph. */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  readonly authMode: AuthMode;
  /**
   * Where identity's resolution routes are, when the supergraph has no identity subgraph (a foreign
   * graph served with our authentication); null: the identity subgraph's URL.
   */
  readonly identityUrl: string | null;
  /**
   * A JSON field-to-policy registry for a supergraph other than ours; null: the registry `npm run
   * compose` generates from our subgraphs.
   */
  readonly fieldPolicyPath: string | null;
  readonly signingKey: SigningKey | null;
  readonly subgraphTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly trustProxy: readonly string[];
  /** Browser origins allowed to send credentialed requests (CORS); none by default. */
  readonly corsOrigins: readonly string[];
  /** Serve HTTPS (TLS 1.3 only) with these PEM files; plain HTTP when null (behind a TLS-terminating proxy). */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** With TLS: a plain HTTP port whose every request is redirected to HTTPS on the same host. */
  readonly httpRedirectPort: number | null;
  /** What one operation may ask for (GATEWAY_MAX_*). */
  readonly limits: OperationLimits;
  /** Shared state for all replicas (rate limits, persisted query cache); memory when null. */
  readonly redisUrl: string | null;
  /** Requests per minute (GATEWAY_RATE_LIMIT_*). */
  readonly rateLimits: RateLimits;
  /** The trusted documents' manifest: what partners (and, when trustedDocumentsOnly, everyone) may run. */
  readonly persistedQueryManifestPath: string;
  /** Every caller runs trusted documents only; automatic persisted query registration is off. */
  readonly trustedDocumentsOnly: boolean;
  readonly shutdownTimeoutMs: number;
  /** Where edge refusals go (AUDIT_INGEST_URL, AUDIT_INGEST_TOKEN). */
  readonly auditIngest: AuditIngestSettings;
  /** Audit export subscriptions (graphql-ws on /graphql). */
  readonly subscriptions: {
    /** How often a subscriber's session or API key is checked again; a revoked one is disconnected. */
    readonly recheckMs: number;
    /** The longest a client may take between opening the socket and `connection_init`. */
    readonly connectionInitTimeoutMs: number;
    /** Open subscription sockets per gateway process. */
    readonly maxConnections: number;
  };
}

const defaultSupergraph = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));
const defaultManifest = fileURLToPath(new URL('../../schema/persisted-query-manifest.json', import.meta.url));
const subgraphUrlPrefix = 'GATEWAY_SUBGRAPH_URL_';

export function readGatewayConfig(env: Env): GatewayConfig {
  const reader = createConfigReader(env);
  const common = readCommonConfig(reader);
  const authMode = reader.oneOf('GATEWAY_AUTH_MODE', authModes, 'session');
  if (authMode === 'off' && common.environment === 'production') {
    reader.problem('GATEWAY_AUTH_MODE=off is refused when NODE_ENV=production');
  }

  let signingKey: SigningKey | null = null;
  const signingKeyText = reader.required('CONTEXT_SIGNING_KEY');
  if (signingKeyText !== '') {
    try {
      signingKey = parseSigningKey(signingKeyText);
    } catch (error) {
      reader.problem(`CONTEXT_SIGNING_KEY: ${(error as Error).message}`);
    }
  }

  const subgraphUrls: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(subgraphUrlPrefix) || value === undefined || value === '') continue;
    if (!/^https?:\/\/[^\s]+$/.test(value)) reader.problem(`${name} must be an http(s) URL`);
    subgraphUrls[name.slice(subgraphUrlPrefix.length).toLowerCase()] = value;
  }

  const identityUrl = reader.string('GATEWAY_IDENTITY_URL') ?? null;
  if (identityUrl !== null && !/^https?:\/\/[^\s]+$/.test(identityUrl)) {
    reader.problem('GATEWAY_IDENTITY_URL must be an http(s) URL');
  }

  const list = (name: string) =>
    (reader.string(name) ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  const trustProxy = list('GATEWAY_TRUST_PROXY');
  const corsOrigins = list('GATEWAY_CORS_ORIGINS');
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s*]+$/.test(origin)) {
      reader.problem(`GATEWAY_CORS_ORIGINS: "${origin}" must be an origin such as https://app.numezis.ch`);
    }
  }

  const certFile = reader.string('GATEWAY_TLS_CERT_FILE');
  const keyFile = reader.string('GATEWAY_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    reader.problem('GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE must be set together');
  }
  const tls = certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : null;
  const redirectText = reader.string('GATEWAY_HTTP_REDIRECT_PORT');
  const httpRedirectPort = redirectText === undefined ? null : reader.port('GATEWAY_HTTP_REDIRECT_PORT', 0);
  if (httpRedirectPort !== null && tls === null) {
    reader.problem('GATEWAY_HTTP_REDIRECT_PORT needs GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE');
  }

  const d = defaultOperationLimits;
  const limits: OperationLimits = {
    maxDepth: reader.int('GATEWAY_MAX_DEPTH', d.maxDepth, { min: 2, max: 100 }),
    maxAliases: reader.int('GATEWAY_MAX_ALIASES', d.maxAliases, { min: 0, max: 1000 }),
    maxDirectives: reader.int('GATEWAY_MAX_DIRECTIVES', d.maxDirectives, { min: 0, max: 1000 }),
    maxTokens: reader.int('GATEWAY_MAX_TOKENS', d.maxTokens, { min: 100, max: 1_000_000 }),
    maxCost: reader.int('GATEWAY_MAX_COST', d.maxCost, { min: 10, max: 100_000_000 }),
    maxDocumentBytes: reader.int('GATEWAY_MAX_DOCUMENT_BYTES', d.maxDocumentBytes, { min: 256, max: 1024 * 1024 }),
    defaultListSize: d.defaultListSize,
    maxListSize: d.maxListSize,
  };

  const redisUrl = reader.string('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\/\S+$/.test(redisUrl))
    reader.problem('REDIS_URL must be a redis:// or rediss:// URL');
  if (redisUrl === null && common.environment === 'production') {
    // Counters and caches in one process's memory would let each replica count on its own.
    reader.problem('REDIS_URL is required when NODE_ENV=production');
  }
  const rateLimits: RateLimits = {
    perIp: reader.int('GATEWAY_RATE_LIMIT_PER_IP', defaultRateLimits.perIp, { min: 1, max: 10_000_000 }),
    perApiKey: reader.int('GATEWAY_RATE_LIMIT_PER_API_KEY', defaultRateLimits.perApiKey, { min: 1, max: 10_000_000 }),
    perWorkspace: reader.int('GATEWAY_RATE_LIMIT_PER_WORKSPACE', defaultRateLimits.perWorkspace, {
      min: 1,
      max: 10_000_000,
    }),
  };

  return reader.finish({
    ...common,
    host: reader.string('GATEWAY_HOST', '127.0.0.1') ?? '127.0.0.1',
    port: reader.port('GATEWAY_PORT', 4000),
    supergraphPath: reader.string('GATEWAY_SUPERGRAPH_PATH', defaultSupergraph) ?? defaultSupergraph,
    subgraphUrls,
    authMode,
    identityUrl,
    fieldPolicyPath: reader.string('GATEWAY_FIELD_POLICY_PATH') ?? null,
    signingKey,
    subgraphTimeoutMs: reader.int('GATEWAY_SUBGRAPH_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    requestTimeoutMs: reader.int('GATEWAY_REQUEST_TIMEOUT_MS', 30_000, { min: 1_000, max: 300_000 }),
    bodyLimitBytes: reader.int('GATEWAY_BODY_LIMIT_BYTES', 1024 * 1024, { min: 1024, max: 16 * 1024 * 1024 }),
    trustProxy,
    corsOrigins,
    tls,
    httpRedirectPort,
    limits,
    redisUrl,
    rateLimits,
    persistedQueryManifestPath: reader.string('GATEWAY_PERSISTED_QUERY_MANIFEST', defaultManifest) ?? defaultManifest,
    trustedDocumentsOnly: reader.bool('GATEWAY_TRUSTED_DOCUMENTS_ONLY', false),
    shutdownTimeoutMs: reader.int('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 120_000 }),
    auditIngest: readAuditIngestSettings(reader, common.environment, 'gateway'),
    subscriptions: {
      recheckMs: reader.int('GATEWAY_SUBSCRIPTION_RECHECK_MS', 30_000, { min: 100, max: 3_600_000 }),
      connectionInitTimeoutMs: reader.int('GATEWAY_SUBSCRIPTION_INIT_TIMEOUT_MS', 10_000, { min: 100, max: 60_000 }),
      maxConnections: reader.int('GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS', 1_000, { min: 1, max: 100_000 }),
    },
  });
}
