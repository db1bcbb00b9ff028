import { STATUS_CODES } from 'node:http';
import type { Fetcher, FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, request } from 'undici';

export interface SubgraphFetcher {
  readonly fetch: Fetcher;
  close(): Promise<void>;
}

/**
 * One keep-alive connection pool for all subgraph calls, with a deadline on every call: a hung
 * subgraph costs a request its timeout, never the gateway its sockets.
 *
 * Calls go through undici's `request`, not its WHATWG `fetch`: a deep query makes a dozen subgraph
 * calls per client request, and fetch's streams, Headers and Response objects cost more CPU and
 * garbage than the call itself. Subgraph answers are small JSON documents, read whole. Redirects are
 * not followed: a subgraph has no business sending the gateway's signed context elsewhere.
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
    const response = await request(url, {
      method: (init?.method ?? 'POST') as 'POST',
      headers: init?.headers ?? {},
      body: init?.body ?? null,
      dispatcher: agent,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.body.text();
    return new BufferedResponse(url, response.statusCode, new ResponseHeaders(response.headers), text);
  };
  return { fetch: subgraphFetch, close: () => agent.close() };
}

type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Response headers as Apollo's Fetcher types describe them, over undici's plain object (names in lower case). */
export class ResponseHeaders implements FetcherHeaders {
  readonly #values = new Map<string, string>();

  constructor(raw: RawHeaders) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.#values.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.#values.set(name.toLowerCase(), value);
  }
  append(name: string, value: string): void {
    const existing = this.get(name);
    this.set(name, existing === null ? value : `${existing}, ${value}`);
  }
  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }
  entries(): Iterator<[string, string]> {
    return this.#values.entries();
  }
  keys(): Iterator<string> {
    return this.#values.keys();
  }
  values(): Iterator<string> {
    return this.#values.values();
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.#values.entries();
  }
}

/** A subgraph's answer, already read whole. */
export class BufferedResponse implements FetcherResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly redirected = false;
  readonly #text: string;
  #used = false;

  constructor(url: string, status: number, headers: ResponseHeaders, text: string) {
    this.url = url;
    this.status = status;
    this.headers = headers;
    this.#text = text;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }
  get bodyUsed(): boolean {
    return this.#used;
  }
  async text(): Promise<string> {
    this.#consume();
    return this.#text;
  }
  async json(): Promise<unknown> {
    this.#consume();
    return JSON.parse(this.#text) as unknown;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    this.#consume();
    const bytes = Buffer.from(this.#text, 'utf8');
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  clone(): FetcherResponse {
    if (this.#used) throw new TypeError('the body of this response was already read');
    return new BufferedResponse(
      this.url,
      this.status,
      new ResponseHeaders(Object.fromEntries(this.headers)),
      this.#text,
    );
  }
  // Like fetch's Response: the body reads once, so code that reads it twice fails here as it would there.
  #consume(): void {
    if (this.#used) throw new TypeError('the body of this response was already read');
    this.#used = true;
  }
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
