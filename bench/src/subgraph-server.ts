import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { contextHeader, createContextVerifier, systemClock } from '@numezis/runtime';
import type { ContextVerifier, VerifyKeys } from '@numezis/runtime';
import { withAccessDirectives } from '@numezis/schema';
import type { BenchSubgraph } from './scenario.ts';

export interface BenchSubgraphServer {
  readonly server: Server;
  /** Requests answered since start, and how many were refused for want of a valid signed context. */
  counts(): { readonly answered: number; readonly refused: number };
}

const maxReplays = 10_000;
// A token is one request's, signed for this subgraph; seen again within a second it is the same
// request's next fetch, and checking its signature again would only measure this process.
const verifiedTokenMs = 1_000;

/**
 * A fast, minimal federated subgraph on node:http. Each distinct request body is executed once and
 * its answer replayed afterwards: the gateways under test send identical subgraph requests, and the
 * subgraphs' own CPU stays out of the measurement. With `verifyKeys` every request must carry a
 * valid context signed for this subgraph, as our subgraphs demand, or it gets 401.
 */
export function startBenchSubgraph(
  subgraph: BenchSubgraph,
  options: { readonly port: number; readonly verifyKeys: VerifyKeys | null },
): Promise<BenchSubgraphServer> {
  const schema = buildSubgraphSchema({
    typeDefs: parse(withAccessDirectives(subgraph.sdl)),
    resolvers: subgraph.resolvers,
  });
  const verifier =
    options.verifyKeys === null
      ? null
      : createContextVerifier({ keys: options.verifyKeys, audience: subgraph.name, clock: systemClock });
  const verified = new Map<string, number>();
  const replays = new Map<string, Promise<string>>();
  let answered = 0;
  let refused = 0;

  const signed = (request: IncomingMessage): boolean => {
    if (verifier === null) return true;
    return isSigned(verifier, verified, request.headers[contextHeader]);
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !signed(request)) {
      refused++;
      request.resume();
      response.writeHead(request.method === 'POST' ? 401 : 405, { 'content-type': 'application/json' });
      response.end('{"errors":[{"message":"refused"}]}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let answer = replays.get(body);
      if (answer === undefined) {
        answer = executeBody(schema, body);
        if (replays.size < maxReplays) replays.set(body, answer);
      }
      answer.then(
        (text) => {
          answered++;
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(400, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
        },
      );
    });
  });
  // Longer than any gateway's pool keeps an idle connection, so no request races a closing socket.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve({ server, counts: () => ({ answered, refused }) }));
  });
}

function isSigned(
  verifier: ContextVerifier,
  verified: Map<string, number>,
  header: string | string[] | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const now = Date.now();
  const seen = verified.get(header);
  if (seen !== undefined && now - seen < verifiedTokenMs) return true;
  if (!verifier.verify(header).ok) return false;
  if (verified.size > 1_000) verified.clear();
  verified.set(header, now);
  return true;
}

async function executeBody(schema: GraphQLSchema, body: string): Promise<string> {
  const { query, variables, operationName } = JSON.parse(body) as {
    query: string;
    variables?: Record<string, unknown>;
    operationName?: string;
  };
  const result = await execute({
    schema,
    document: parse(query),
    variableValues: variables ?? null,
    operationName: operationName ?? null,
  });
  return JSON.stringify(result);
}
