import type { RuntimeEnvironment } from './common.ts';
import type { ConfigReader } from './reader.ts';

/** How a service's outbox relay reaches the audit subgraph, and the token both ends share. */
export interface AuditIngestSettings {
  /** AUDIT_INGEST_URL: the audit subgraph's ingest route; null where the service is the audit subgraph or none runs. */
  readonly url: string | null;
  /** AUDIT_INGEST_TOKEN: the shared secret the relay presents and the audit subgraph checks. */
  readonly token: string | null;
  /** AUDIT_RELAY_INTERVAL_MS: how often the relay looks at the outbox. */
  readonly relayIntervalMs: number;
}

export const auditIngestPath = '/internal/audit/events';

export function readAuditIngestSettings(
  reader: ConfigReader,
  environment: RuntimeEnvironment,
  service: string,
): AuditIngestSettings {
  const url = reader.string('AUDIT_INGEST_URL') ?? null;
  const token = reader.string('AUDIT_INGEST_TOKEN') ?? null;
  const relayIntervalMs = reader.int('AUDIT_RELAY_INTERVAL_MS', 1_000, { min: 50, max: 60_000 });
  if (url !== null && !/^https?:\/\/[^\s/]+\/\S*$/.test(url)) {
    reader.problem(`AUDIT_INGEST_URL must be an http(s) URL such as http://audit:4004${auditIngestPath}`);
  }
  if (token !== null && token.length < 32) reader.problem('AUDIT_INGEST_TOKEN must be at least 32 characters');
  if (url !== null && token === null) reader.problem('AUDIT_INGEST_TOKEN is required when AUDIT_INGEST_URL is set');
  if (environment === 'production') {
    if (token === null) reader.problem('AUDIT_INGEST_TOKEN is required when NODE_ENV=production');
    if (url === null && service !== 'audit') {
      reader.problem('AUDIT_INGEST_URL is required when NODE_ENV=production: audit events would pile up unsent');
    }
  }
  return { url, token, relayIntervalMs };
}
