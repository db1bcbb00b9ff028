import { createConfigReader } from '@numezis/runtime';
import type { Env, RuntimeEnvironment } from '@numezis/runtime';
import type { ThrottleRule } from './auth/throttle.ts';
import { readWebAuthnSettings } from './passkeys/settings.ts';
import type { WebAuthnSettings } from './passkeys/settings.ts';
import type { SessionPolicy } from './sessions/sessions.ts';

export interface IdentitySettings {
  /** Where mail goes: an SMTP server, or (development and tests only) a folder of JSON files. */
  readonly mail:
    | { readonly kind: 'smtp'; readonly url: string; readonly from: string }
    | { readonly kind: 'outbox'; readonly dir: string };
  readonly sessionPolicy: SessionPolicy;
  readonly invitationTtlMs: number;
  readonly verificationTtlMs: number;
  readonly totpIssuer: string;
  /** Passkeys: the relying party and the origins whose ceremonies are accepted. */
  readonly webauthn: WebAuthnSettings;
  /** Sensitive actions (creating API keys, ...) need an MFA step at most this long ago. */
  readonly recentMfaMs: number;
  /** Brute-force limits: failed sign-ins per account and per client IP, failed codes per person. */
  readonly throttle: {
    readonly perAccount: ThrottleRule;
    readonly perIp: ThrottleRule;
    readonly perTotpUser: ThrottleRule;
    /** REDIS_URL: brute-force counters in Redis, shared by the replicas; in PostgreSQL when null. */
    readonly redisUrl: string | null;
  };
}

/**
 * Identity's own settings, beside the ones every subgraph shares. No key material among them: the
 * service key that seals per-user secrets lives in the database, wrapped by the KMS
 * (crypto/service-key.ts).
 */
export function readIdentitySettings(
  env: Env,
  environment: RuntimeEnvironment,
  defaults: { mailOutboxDir: string },
): IdentitySettings {
  const reader = createConfigReader(env);
  const smtpUrl = reader.string('IDENTITY_SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/\S+$/.test(smtpUrl))
    reader.problem('IDENTITY_SMTP_URL must be an smtp:// or smtps:// URL');
  if (smtpUrl === undefined && environment === 'production') {
    reader.problem('IDENTITY_SMTP_URL is required when NODE_ENV=production (the file outbox is for development)');
  }
  const mail: IdentitySettings['mail'] =
    smtpUrl === undefined
      ? {
          kind: 'outbox',
          dir: reader.string('IDENTITY_MAIL_OUTBOX_DIR', defaults.mailOutboxDir) ?? defaults.mailOutboxDir,
        }
      : {
          kind: 'smtp',
          url: smtpUrl,
          from:
            reader.string('IDENTITY_MAIL_FROM', 'Numezis <no-reply@numezis.com>') ?? 'Numezis <no-reply@numezis.com>',
        };
  const idleMinutes = reader.int('IDENTITY_SESSION_IDLE_MINUTES', 30, { min: 1, max: 24 * 60 });
  const absoluteHours = reader.int('IDENTITY_SESSION_ABSOLUTE_HOURS', 12, { min: 1, max: 24 * 30 });
  const windowMs = reader.int('IDENTITY_THROTTLE_WINDOW_MINUTES', 15, { min: 1, max: 24 * 60 }) * 60_000;
  const perAccount = reader.int('IDENTITY_THROTTLE_MAX_FAILURES_PER_ACCOUNT', 5, { min: 1, max: 1000 });
  const perIp = reader.int('IDENTITY_THROTTLE_MAX_FAILURES_PER_IP', 50, { min: 1, max: 100_000 });
  const redisUrl = reader.string('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\/\S+$/.test(redisUrl))
    reader.problem('REDIS_URL must be a redis:// or rediss:// URL');
  return reader.finish({
    mail,
    sessionPolicy: { idleMs: idleMinutes * 60_000, absoluteMs: absoluteHours * 3_600_000 },
    invitationTtlMs: 7 * 24 * 3_600_000,
    verificationTtlMs: 24 * 3_600_000,
    totpIssuer: reader.string('IDENTITY_TOTP_ISSUER', 'Numezis') ?? 'Numezis',
    webauthn: readWebAuthnSettings(reader),
    recentMfaMs: reader.int('IDENTITY_RECENT_MFA_MINUTES', 10, { min: 1, max: 24 * 60 }) * 60_000,
    throttle: {
      perAccount: { maxFailures: perAccount, windowMs },
      perIp: { maxFailures: perIp, windowMs },
      perTotpUser: { maxFailures: perAccount, windowMs },
      redisUrl,
    },
  });
}
