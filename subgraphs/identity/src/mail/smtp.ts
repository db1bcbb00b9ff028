import nodemailer from 'nodemailer';
import type { Mailer } from './outbox.ts';

/**
 * Delivery through an SMTP server (smtp:// or smtps:// URL with credentials). Mail carries one-time
 * codes, so failures are raised to the caller rather than swallowed: a sign-up whose mail did not
 * leave is reported, not silently lost.
 */
export function smtpMailer(options: { url: string; from: string }): Mailer & { close(): void } {
  const transport = nodemailer.createTransport(options.url);
  return {
    async send(mail) {
      await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
  };
}
