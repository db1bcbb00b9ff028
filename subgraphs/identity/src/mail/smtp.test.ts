import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { smtpMailer } from './smtp.ts';

interface Received {
  from: string;
  to: string[];
  data: string;
}

describe('SMTP delivery', () => {
  const received: Received[] = [];
  let server: SMTPServer;
  let port: number;

  before(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands the mail to the configured server, from the configured sender', async () => {
    const mailer = smtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'Numezis <no-reply@numezis.test>' });
    await mailer.send({ to: 'anna@example.ch', subject: 'Confirm your Numezis account', text: 'Your code: abc' });
    mailer.close();
    assert.equal(received.length, 1);
    assert.equal(received[0]?.from, 'no-reply@numezis.test');
    assert.deepEqual(received[0]?.to, ['anna@example.ch']);
    assert.match(received[0]?.data ?? '', /Subject: Confirm your Numezis account/);
    assert.match(received[0]?.data ?? '', /Your code: abc/);
  });

  it('reports a server that cannot be reached instead of losing the mail silently', async () => {
    const mailer = smtpMailer({ url: 'smtp://127.0.0.1:1', from: 'no-reply@numezis.test' });
    await assert.rejects(mailer.send({ to: 'anna@example.ch', subject: 'x', text: 'y' }));
    mailer.close();
  });
});
