import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, fetch } from 'undici';

export interface SubgraphFetcher {
  readonly fetch: Fetcher;
  close(): Promise<void>;
}

/**
 * One keep-alive connection pool for all subgraph calls, with a deadline on every call: a hung
 * subgraph costs a request its timeout, never the gateway its sockets.
 */
export function createSubgraphFetcher(options: { timeoutMs: number }): SubgraphFetcher {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    connect: { timeout: Math.min(5_000, options.timeoutMs) },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const subgraphFetch: Fetcher = async (url, init) => {
    const response = await fetch(url, {
      method: init?.method ?? 'POST',
      headers: init?.headers ?? {},
      body: init?.body ?? null,
      dispatcher: agent,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // undici's Response implements the WHATWG interface that Apollo's Fetcher types describe.
    const fetcherResponse: FetcherResponse = response;
    return fetcherResponse;
  };
  return { fetch: subgraphFetch, close: () => agent.close() };
}

/** `fetch` that reports how long each subgraph call took and whether it answered (any HTTP status) or failed. */
export function timedFetch(
  fetch: Fetcher,
  observe: (seconds: number, outcome: 'answered' | 'failed') => void,
): Fetcher {
  return async (url, init) => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const response = await fetch(url, init);
      observe(seconds(), 'answered');
      return response;
    } catch (error) {
      observe(seconds(), 'failed');
      throw error;
    }
  };
}
