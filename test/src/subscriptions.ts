import { createClient } from 'graphql-ws';
import type { Client, FormattedExecutionResult } from 'graphql-ws';

export type ExecutionResult<Data> = FormattedExecutionResult<Data, unknown>;
import WebSocket from 'ws';

export interface SubscriptionCaller {
  readonly cookie?: string;
  readonly workspaceId?: string;
  /** Sent in connection_init, as a partner's client would. */
  readonly apiKey?: string;
  readonly origin?: string;
  /** More upgrade request headers (user-agent, x-forwarded-for). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Subscription<Data> {
  /** The next result; rejects when the subscription ends first. */
  next(): Promise<ExecutionResult<Data>>;
  /** The close event of the socket (code and reason), once it closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws subscription through the gateway, with its results queued for the test to take. */
export function subscribe<Data = Record<string, unknown>>(
  gatewayUrl: string,
  caller: SubscriptionCaller,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<Data> {
  const headers: Record<string, string> = { ...caller.headers };
  if (caller.cookie !== undefined) headers.cookie = caller.cookie;
  if (caller.workspaceId !== undefined) headers['x-numezis-workspace'] = caller.workspaceId;
  if (caller.origin !== undefined) headers.origin = caller.origin;
  let resolveClosed: (event: { code: number; reason: string }) => void = () => undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    resolveClosed = resolve;
  });
  const client: Client = createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    },
    connectionParams: caller.apiKey === undefined ? {} : { authorization: `Bearer ${caller.apiKey}` },
    lazy: false,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason: String(reason) });
      },
    },
  });
  const results: ExecutionResult<Data>[] = [];
  const waiting: { resolve: (value: ExecutionResult<Data>) => void; reject: (error: unknown) => void }[] = [];
  let ended: Error | undefined;
  const end = (error: unknown) => {
    // graphql-ws reports GraphQL errors as an array: kept on the Error for tests to read.
    const failure = error instanceof Error ? error : Object.assign(new Error('subscription failed'), { errors: error });
    ended = failure;
    for (const waiter of waiting.splice(0)) waiter.reject(failure);
  };
  client.subscribe<Data>(
    { query, variables },
    {
      next: (value) => {
        const waiter = waiting.shift();
        if (waiter === undefined) results.push(value);
        else waiter.resolve(value);
      },
      error: (error) => end(error),
      complete: () => end(new Error('subscription completed')),
    },
  );
  return {
    next() {
      const value = results.shift();
      if (value !== undefined) return Promise.resolve(value);
      if (ended !== undefined) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    closed,
    dispose: () => client.dispose() as Promise<void>,
  };
}
