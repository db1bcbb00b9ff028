import autocannon from 'autocannon';

export interface LoadResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Responses that were not 200 with exactly the expected body, plus connection errors and timeouts. */
  readonly failures: number;
}

/**
 * Drives `connections` keep-alive connections at the gateway for `durationS` seconds, each sending
 * the same request back to back, and checks every response: status 200 and the exact body the
 * gateway answered (and the oracle confirmed) before the run.
 */
export async function drive(options: {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly expectedBody: string;
}): Promise<LoadResult> {
  let wrong = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    // A response slower than this counts as a failure rather than stalling the run.
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: { ...options.headers },
        body: options.body,
        onResponse: (status, body) => {
          if (status !== 200 || body !== options.expectedBody) wrong++;
        },
      },
    ],
  });
  const requests = result.requests.total;
  return {
    requests,
    durationS: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: wrong + result.errors + result.timeouts,
  };
}
