import autocannon from 'autocannon';

/** One request of the load: its own body and signed context, and how to tell its answer is right. */
export interface MutationRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  accepts(status: number, body: string): boolean;
}

export interface MutationLoadResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  /** Latency percentiles of the answered requests, in milliseconds (not rounded to whole ones). */
  readonly p50: number;
  readonly p99: number;
  /** Answers `accepts` refused, plus connection errors and timeouts. */
  readonly failures: number;
}

// Per connection, autocannon hands setupRequest and onResponse the same context; with one request in
// flight per connection it carries the check of the request whose answer comes next.
interface ConnectionContext {
  accepts?: MutationRequest['accepts'];
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], fraction: number) =>
  sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? NaN;

/**
 * Drives `connections` keep-alive connections at `url` for `durationS` seconds, each sending
 * `next()`'s request back to back (a new body and context every time), and checks every answer.
 * Latencies come from autocannon's per-response timings: its histogram keeps whole milliseconds,
 * too coarse for a 15 % comparison of a few-millisecond mutation.
 */
export async function driveMutation(options: {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly next: () => MutationRequest;
}): Promise<MutationLoadResult> {
  const latencies: number[] = [];
  let wrong = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        // A response slower than this counts as a failure rather than stalling the run.
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/graphql',
            setupRequest: (request, context) => {
              const next = options.next();
              (context as ConnectionContext).accepts = (status, body) => next.accepts(status, body);
              return { ...request, headers: { ...request.headers, ...next.headers }, body: next.body };
            },
            onResponse: (status, body, context) => {
              const accepts = (context as ConnectionContext).accepts;
              if (accepts === undefined || !accepts(status, body)) wrong++;
            },
          },
        ],
      },
      // autocannon reports a setup failure (a bad URL, say) as an Error, or nothing.
      (error: Error | null, done: autocannon.Result) => (error === null ? resolve(done) : reject(error)),
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status === 200) latencies.push(responseTime);
    });
  });
  const sorted = latencies.sort((a, b) => a - b);
  const requests = result.requests.total;
  return {
    requests,
    durationS: result.duration,
    rps: requests / result.duration,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failures: wrong + result.errors + result.timeouts,
  };
}
