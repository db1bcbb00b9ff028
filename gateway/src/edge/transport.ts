import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHttpServer } from '@numezis/runtime/server/http';
import { StartupError } from '@numezis/runtime/server/run';

/** Two years, subdomains included, eligible for the browsers' preload list (hstspreload.org's minimum is one year). */
export const strictTransportSecurity = 'max-age=63072000; includeSubDomains; preload';

/**
 * Headers on every response, errors and health probes included. The API serves JSON only, so
 * production forbids every content source and framing; development keeps the sandbox page working.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: { readonly production: boolean }): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('strict-transport-security', strictTransportSecurity);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-site');
    if (options.production) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  });
}

const hostnamePattern = /^(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$|^\[[0-9A-Fa-f:.]+\]$/;

/** The same host on HTTPS; undefined when the Host header is no plain host name (nothing to redirect to). */
function httpsLocation(request: FastifyRequest, httpsPort: number | null): string | undefined {
  const hostname = request.hostname.replace(/:\d+$/, '');
  if (!hostnamePattern.test(hostname)) return undefined;
  const port = httpsPort === null || httpsPort === 443 ? '' : `:${httpsPort}`;
  return `https://${hostname}${port}${request.url}`;
}

// 308 keeps the method and body, so a POST that arrives on HTTP is repeated on HTTPS, never turned into a GET.
function redirect(request: FastifyRequest, reply: FastifyReply, httpsPort: number | null) {
  const location = httpsLocation(request, httpsPort);
  if (location === undefined) return reply.status(400).send({ errors: [{ message: 'Use HTTPS' }] });
  return reply.status(308).header('location', location).send();
}

/**
 * Behind a TLS-terminating load balancer (trusted through GATEWAY_TRUST_PROXY): a request it
 * forwarded from plain HTTP is sent to HTTPS. Health probes stay answerable over HTTP.
 */
export function registerProxiedHttpsRedirect(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/livez' || request.url === '/health') return;
    if (request.headers['x-forwarded-proto'] === undefined || request.protocol !== 'http') return;
    return redirect(request, reply, null);
  });
}

/** A plain HTTP listener that only redirects to the HTTPS one on the same host. */
export function createHttpsRedirectServer(options: {
  readonly httpsPort: number;
  readonly logLevel: string;
}): FastifyInstance {
  const app = createHttpServer({
    service: 'gateway-http-redirect',
    logLevel: options.logLevel,
    requestTimeoutMs: 10_000,
  });
  registerSecurityHeaders(app, { production: true });
  app.all('/*', (request, reply) => redirect(request, reply, options.httpsPort));
  app.all('/', (request, reply) => redirect(request, reply, options.httpsPort));
  return app;
}

/** The certificate and key, read once at start; a missing or unreadable file stops the start, by name. */
export async function readTlsFiles(files: {
  readonly certFile: string;
  readonly keyFile: string;
}): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (path: string, setting: string) =>
    readFile(path).catch((error: unknown) => {
      throw new StartupError(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    });
  return {
    cert: await read(files.certFile, 'GATEWAY_TLS_CERT_FILE'),
    key: await read(files.keyFile, 'GATEWAY_TLS_KEY_FILE'),
  };
}
