import { randomUUID } from 'node:crypto';
import type { Fetcher } from '@apollo/utils.fetcher';
import { anonymousContext, contextHeader } from '@numezis/runtime/context/signed-context';
import { withTimeout } from '@numezis/runtime/server/http';
import type { ContextSigner } from '@numezis/runtime/context/signed-context';
import type { SubgraphEndpoint } from './supergraph.ts';

const probeTimeoutMs = 2_000;

export type SubgraphHealth = Record<string, 'ok' | 'unavailable'>;

/**
 * Readiness of the graph: every subgraph answers `{ __typename }` through the same signed path real
 * queries take. Works for any federation subgraph, ours or not. Concurrent probes share one round,
 * so a burst of health checks costs the subgraphs one request each; results are never reused stale.
 */
export function createHealthCheck(options: {
  subgraphs: readonly SubgraphEndpoint[];
  fetcher: Fetcher;
  signer: ContextSigner;
}): () => Promise<SubgraphHealth> {
  const { subgraphs, fetcher, signer } = options;
  let inFlight: Promise<SubgraphHealth> | undefined;

  const probe = async (subgraph: SubgraphEndpoint): Promise<'ok' | 'unavailable'> => {
    const token = signer.sign(
      anonymousContext({
        requestId: `health-${randomUUID()}`,
        clientIp: '127.0.0.1',
        userAgent: 'numezis-gateway-health',
      }),
      subgraph.name,
    );
    try {
      const response = await withTimeout(
        fetcher(subgraph.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [contextHeader]: token },
          body: JSON.stringify({ query: '{ __typename }' }),
        }),
        probeTimeoutMs,
        `${subgraph.name} health probe`,
      );
      if (!response.ok) return 'unavailable';
      const body = (await response.json()) as { data?: { __typename?: unknown } };
      return body.data?.__typename === 'Query' ? 'ok' : 'unavailable';
    } catch {
      return 'unavailable';
    }
  };

  return () => {
    inFlight ??= Promise.all(subgraphs.map(async (subgraph) => [subgraph.name, await probe(subgraph)] as const))
      .then((entries) => Object.fromEntries(entries))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
