import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createSubgraphFetcher } from './subgraph-fetcher.ts';

describe('the subgraph fetcher', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; headers?: Record<string, unknown>; body?: string }[] = [];
  const fetcher = createSubgraphFetcher({ timeoutMs: 300 });

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', headers: request.headers, body });
        if (request.url === '/slow') return void setTimeout(() => response.end('{}'), 2_000);
        if (request.url === '/down') {
          response.writeHead(503, { 'content-type': 'text/plain' });
          return void response.end('maintenance');
        }
        response.setHeader('content-type', 'application/json; charset=utf-8');
        response.setHeader('x-numezis-session', 'set');
        response.setHeader('set-cookie', ['a=1', 'b=2']);
        response.end(JSON.stringify({ data: { echo: JSON.parse(body) as unknown } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await fetcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts the body with the headers it is given and answers like a fetch Response', async () => {
    const response = await fetcher.fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-numezis-context': 'token' },
      body: '{"query":"{ a }"}',
    });
    assert.equal(seen.at(-1)?.method, 'POST');
    assert.equal(seen.at(-1)?.headers?.['x-numezis-context'], 'token');
    assert.equal(response.status, 200);
    assert.equal(response.ok, true);
    assert.equal(response.statusText, 'OK');
    assert.equal(response.url, `${base}/graphql`);
    assert.equal(response.headers.get('Content-Type'), 'application/json; charset=utf-8');
    assert.equal(response.headers.get('X-Numezis-Session'), 'set');
    assert.equal(response.headers.get('set-cookie'), 'a=1, b=2');
    assert.equal(response.headers.has('x-missing'), false);
    assert.equal(response.bodyUsed, false);
    assert.deepEqual(await response.clone().json(), { data: { echo: { query: '{ a }' } } });
    assert.deepEqual(await response.json(), { data: { echo: { query: '{ a }' } } });
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), TypeError);
  });

  it('hands over an error status with its body, for the data source to report', async () => {
    const response = await fetcher.fetch(`${base}/down`, { method: 'POST', body: '{}' });
    assert.equal(response.ok, false);
    assert.equal(response.status, 503);
    assert.equal(response.statusText, 'Service Unavailable');
    assert.equal(await response.text(), 'maintenance');
  });

  it('gives up on a subgraph that does not answer within the deadline', async () => {
    const started = Date.now();
    await assert.rejects(fetcher.fetch(`${base}/slow`, { method: 'POST', body: '{}' }));
    assert.ok(Date.now() - started < 1_500);
  });
});
