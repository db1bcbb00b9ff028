import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { FastifyBaseLogger } from 'fastify';
import { GraphQLError } from 'graphql';
import { contextHeader } from '@numezis/runtime/context/signed-context';
import { ErrorCode } from '@numezis/runtime/errors';
import type { GatewayContext } from './request-context.ts';
import { parseSessionInstruction } from './session-cookie.ts';

/** The one subgraph allowed to start and end sessions. */
const sessionIssuer = 'identity';
const sessionHeader = 'x-numezis-session';

/**
 * Sends each subgraph request with the signed context for that subgraph, and turns transport
 * failures into one stable, client-safe error: the client learns which service is unavailable,
 * never a URL, status line or response body.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly subgraphName: string;
  readonly log: FastifyBaseLogger;

  constructor(options: { name: string; url: string; fetcher: Fetcher; log: FastifyBaseLogger }) {
    super({ url: options.url, fetcher: options.fetcher });
    this.subgraphName = options.name;
    this.log = options.log;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Health probes and the gateway's own calls carry no request context and are signed by their caller.
    const { tokenFor } = context as Partial<GatewayContext>;
    if (tokenFor === undefined) return;
    request.http?.headers.set(contextHeader, tokenFor(this.subgraphName));
  }

  override didReceiveResponse({
    response,
    context,
  }: {
    response: GatewayGraphQLResponse;
    context: GatewayContext;
  }): GatewayGraphQLResponse {
    // Only identity may start or end a session; the same header from any other subgraph is ignored.
    if (this.subgraphName === sessionIssuer && context.outgoingSession !== undefined) {
      const instruction = parseSessionInstruction(response.http?.headers.get(sessionHeader) ?? null);
      if (instruction !== null) context.outgoingSession.instruction = instruction;
    }
    return response;
  }

  override didEncounterError(error: Error): never {
    const status = (error as GraphQLError).extensions?.response as { status?: number } | undefined;
    this.log.warn({ subgraph: this.subgraphName, err: error, status: status?.status }, 'subgraph request failed');
    throw new GraphQLError(`The ${this.subgraphName} service is unavailable`, {
      extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, serviceName: this.subgraphName },
    });
  }
}
