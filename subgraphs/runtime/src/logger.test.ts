import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { loggerOptions, redactUrl } from './logger.ts';

const ticket = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo';

describe('redactUrl', () => {
  const table: [string, string][] = [
    [`/uploads/0b1c9d1e-6a8f-4d5e-9c1b-2a3b4c5d6e7f/${ticket}`, '/uploads/[redacted]'],
    [`/downloads/0b1c9d1e-6a8f-4d5e-9c1b-2a3b4c5d6e7f/${ticket}?x=1`, '/downloads/[redacted]?x=1'],
    [`/internal/uploads/${ticket}`, '/internal/uploads/[redacted]'],
    [`/documents/1/content?token=${ticket}&inline=0`, '/documents/1/content?token=[redacted]&inline=0'],
    [`/x?a=1&Ticket=${ticket}`, '/x?a=1&Ticket=[redacted]'],
    ['/graphql', '/graphql'],
    [
      '/graphql?extensions=%7B%7D&variables=%7B%22iban%22%3A%22CH9300762011623852957%22%7D',
      '/graphql?extensions=%7B%7D&variables=[redacted]',
    ],
    ['/internal/uploads', '/internal/uploads'],
  ];
  for (const [url, expected] of table) {
    it(`${url} → ${expected}`, () => assert.equal(redactUrl(url), expected));
  }
});

describe('request logging', () => {
  it('never writes a ticket from the URL', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = Fastify({ logger: { ...loggerOptions('test', 'debug'), stream } });
    app.put('/uploads/:workspace/:ticket', async () => ({ ok: true }));
    await app.inject({ method: 'PUT', url: `/uploads/w/${ticket}`, headers: { 'x-numezis-ticket': ticket } });
    await app.close();
    const logged = lines.join('');
    assert.match(logged, /\/uploads\/\[redacted\]/);
    assert.ok(!logged.includes(ticket), logged);
  });
});
