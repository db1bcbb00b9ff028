import type { FastifyInstance } from 'fastify';

/**
 * RFC 9116 `security.txt`, naming the contact of the security page's "Reporting a vulnerability".
 * `Expires` is required and must not lie more than a year ahead: it is set a year from the start of
 * this process, so a deployment never serves a stale one.
 */
export function registerSecurityTxt(app: FastifyInstance, now: () => number): void {
  const expires = new Date(now() + 364 * 24 * 3600 * 1000);
  expires.setUTCHours(0, 0, 0, 0);
  const body = [
    'Contact: mailto:security@numezis.com',
    `Expires: ${expires.toISOString()}`,
    'Preferred-Languages: en, de, fr',
    '',
  ].join('\n');
  app.get('/.well-known/security.txt', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').header('cache-control', 'public, max-age=86400').send(body),
  );
}
