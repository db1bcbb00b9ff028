// Child process: vanilla Apollo Server 5 + @apollo/gateway on the benchmark's supergraph, as their
// documentation sets them up; with `undici`, its only change is the subgraph HTTP client.
import { readFile } from 'node:fs/promises';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, fetch } from 'undici';

const [supergraphPath = '', port = '0', client = 'default'] = process.argv.slice(2);

function undiciFetcher(): Fetcher {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  return async (url, init) => {
    const response: FetcherResponse = await fetch(url, {
      method: init?.method ?? 'POST',
      headers: init?.headers ?? {},
      body: init?.body ?? null,
      dispatcher: agent,
    });
    return response;
  };
}

const fetcher = client === 'undici' ? undiciFetcher() : undefined;
const gateway = new ApolloGateway({
  supergraphSdl: await readFile(supergraphPath, 'utf8'),
  ...(fetcher === undefined
    ? {}
    : { buildService: ({ url }) => new RemoteGraphQLDataSource({ url: url ?? '', fetcher }) }),
});
const server = new ApolloServer({ gateway });
await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(port) } });
process.on('SIGTERM', () => {
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
