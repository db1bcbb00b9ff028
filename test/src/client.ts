export interface GraphQLResult<Data = Record<string, unknown>> {
  readonly status: number;
  readonly contentType: string | null;
  readonly setCookie: string | null;
  /** The gateway's request id (x-request-id): the audit trail links a request's events by it. */
  readonly requestId: string | null;
  readonly body: {
    data?: Data | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
  readonly text: string;
}

/** Who sends a request: the session cookie, and optionally the workspace to act in. */
export interface Caller {
  readonly cookie: string;
  readonly workspaceId?: string;
}

export async function graphql<Data = Record<string, unknown>>(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; as?: Caller; headers?: Record<string, string> } = {},
): Promise<GraphQLResult<Data>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.as !== undefined) {
    headers.cookie = options.as.cookie;
    if (options.as.workspaceId !== undefined) headers['x-numezis-workspace'] = options.as.workspaceId;
  }
  return send<Data>(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }) });
}

export async function send<Data = Record<string, unknown>>(
  url: string,
  init: RequestInit,
): Promise<GraphQLResult<Data>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: GraphQLResult<Data>['body'];
  try {
    body = JSON.parse(text) as GraphQLResult<Data>['body'];
  } catch {
    body = {};
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    setCookie: response.headers.get('set-cookie'),
    requestId: response.headers.get('x-request-id'),
    body,
    text,
  };
}

/** The data of a result that must have succeeded; fails loudly with the errors otherwise. */
export function dataOf<Data>(result: GraphQLResult<Data>): Data {
  if (result.body.errors !== undefined || result.body.data === undefined || result.body.data === null) {
    throw new Error(`expected data, got ${result.status}: ${result.text}`);
  }
  return result.body.data;
}

/** The first error's code, for asserting refusals. */
export function errorCode(result: GraphQLResult<unknown>): unknown {
  return result.body.errors?.[0]?.extensions?.code;
}
