import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createAccessDenials } from '../security/access-denials.ts';
import type { ForwardedContext } from '../context/signed-context.ts';
import { configureErrorReporting, flushErrorReports, reportError, scrubText } from './error-reporting.ts';

// A local HTTP endpoint that receives Sentry envelopes as sentry.io would: what arrives here is
// exactly what would leave for Sentry.
const canary = {
  iban: 'CH93 0076 2011 6238 5295 7',
  ibanElectronic: 'CH9300762011623852957',
  ahv: '756.9217.0769.85',
  email: 'anna.canary@example.ch',
  apiKey: `nmz_${'K'.repeat(43)}`,
};

describe('error reports to Sentry', () => {
  let server: Server;
  let envelopes: string[] = [];
  let arrived: (() => void) | undefined;
  let stop: () => Promise<void>;

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        envelopes.push((request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        arrived?.();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    stop = configureErrorReporting({
      dsn: `http://publickey@127.0.0.1:${port}/42`,
      environment: 'test',
      service: 'accounting',
      burstThreshold: 5,
    });
  });
  after(async () => {
    await stop();
    server.close();
  });

  /** Resolves with the envelopes that arrive while `work` runs and its reports are flushed. */
  const sent = async (work: () => void): Promise<string[]> => {
    envelopes = [];
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    work();
    assert.equal(await flushErrorReports(5_000), true);
    await first;
    return envelopes;
  };

  it('sends an unexpected error with its stack, and none of the personal data in it', async () => {
    const error = new Error(
      `payment to ${canary.iban} (${canary.ibanElectronic}) for ${canary.email}, AHV ${canary.ahv}, key ${canary.apiKey} failed`,
    );
    const received = (await sent(() => reportError(error, { iban: canary.ibanElectronic, path: 'Mutation.x' }))).join(
      '\n',
    );
    assert.match(received, /"type":"event"/);
    assert.match(received, /"stacktrace"/);
    assert.match(received, /payment to \[iban\] \(\[iban\]\) for \[email\], AHV \[ahv\], key \[api-key\] failed/);
    assert.match(received, /"service":"accounting"/);
    for (const value of Object.values(canary)) assert.ok(!received.includes(value), `${value} left for Sentry`);
    assert.doesNotMatch(received, /9217|2011 6238|anna\.canary/);
  });

  it('sends one warning when an actor’s denied attempts reach the burst threshold', async () => {
    const denials = createAccessDenials({ warn: () => undefined }, 'accounting');
    const context: ForwardedContext = {
      requestId: randomUUID(),
      clientIp: '203.0.113.7',
      userAgent: 'probe',
      actor: { kind: 'user', userId: randomUUID(), sessionId: randomUUID() },
      access: { kind: 'account' },
      mfaAt: null,
      mfaRequired: false,
    };
    const events = await sent(() => {
      for (let index = 0; index < 7; index++) denials.record({ field: 'Query.contact', code: 'NOT_FOUND', context });
    });
    // One event for seven attempts over a threshold of five.
    assert.equal(events.length, 1);
    const received = events.join('\n');
    assert.match(received, /burst of unauthorized access attempts/);
    assert.match(received, new RegExp(`user:${context.actor.kind === 'user' ? context.actor.userId : ''}`));
    assert.doesNotMatch(received, /203\.0\.113\.7/);
  });
});

describe('scrubbing', () => {
  it('replaces IBANs, AHV numbers, emails and tokens, and leaves the rest', () => {
    assert.equal(
      scrubText(`Konto CH93 0076 2011 6238 5295 7, AHV 7569217076985, mail a.b@c.ch, Bearer abc.def, ok 42`),
      'Konto [iban], AHV [ahv], mail [email], Bearer [token], ok 42',
    );
    assert.equal(scrubText('__Host-numezis-session=secretvalue; Path=/'), '__Host-numezis-session=[token]; Path=/');
  });

  it('leaves ids alone whose last group looks like an IBAN, and still finds an IBAN beside one', () => {
    const id = 'user:41ea890a-5968-49fb-9a5d-fa60f8428177';
    assert.equal(scrubText(id), id);
    assert.equal(scrubText(`${id} CH9300762011623852957`), `${id} [iban]`);
    assert.equal(scrubText('iban: de89370400440532013000'), 'iban: [iban]');
  });
});
