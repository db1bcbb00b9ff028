import { createClient } from 'graphql-ws';
import type { ExecutionResult } from 'graphql';
import WebSocket from 'ws';
import { contextHeader } from '@numezis/runtime/context/signed-context';
import { ErrorCode } from '@numezis/runtime/errors';

export interface UpstreamSubscription {
  /** The subgraph's GraphQL URL (http or https); the socket goes to the same path. */
  readonly url: string;
  /** The signed context for that subgraph: checked once, on the WebSocket upgrade. */
  readonly token: string;
  readonly query: string;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
}

const unavailable: ExecutionResult = {
  errors: [
    {
      message: 'The audit service is unavailable; subscribe again later',
      extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE },
    } as unknown as never,
  ],
};

/**
 * One subscription proxied to a subgraph over its own graphql-ws connection, so each subscriber's
 * signed context reaches the subgraph and nothing is shared between subscribers. Errors the
 * subgraph sends are passed on as a last result; a lost connection ends the stream with an
 * "unavailable" error rather than leaving the client waiting.
 */
export function subscribeUpstream(subscription: UpstreamSubscription): AsyncIterableIterator<ExecutionResult> {
  const headers = { [contextHeader]: subscription.token };
  const client = createClient({
    url: subscription.url.replace(/^http/, 'ws'),
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    },
    lazy: true,
    retryAttempts: 0,
  });
  const inner = client.iterate<Record<string, unknown>>({
    query: subscription.query,
    ...(subscription.variables === null ? {} : { variables: subscription.variables }),
    ...(subscription.operationName === null ? {} : { operationName: subscription.operationName }),
  });
  let finished = false;
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    if (!finished) {
      finished = true;
      await inner.return?.();
      await client.dispose();
    }
    return { done: true, value: undefined };
  };
  const stream: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      try {
        const result = await inner.next();
        if (result.done === true) return finish();
        return { done: false, value: result.value as ExecutionResult };
      } catch (error) {
        await finish();
        // graphql-ws rejects with the subgraph's errors, or with the close event of a lost socket.
        const value: ExecutionResult = Array.isArray(error) ? { errors: error } : unavailable;
        finished = true;
        return { done: false, value };
      }
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
