import type { ConfigReader } from '@numezis/runtime';

export interface WebAuthnSettings {
  /** The relying party id: the domain passkeys are scoped to (the browser checks each origin against it). */
  readonly rpId: string;
  /** Shown by the browser and the authenticator when a passkey is created. */
  readonly rpName: string;
  /** The exact origins (scheme, host, port) whose ceremonies are accepted. */
  readonly origins: readonly string[];
}

const hostnamePattern = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * IDENTITY_WEBAUTHN_RP_ID, IDENTITY_WEBAUTHN_RP_NAME and IDENTITY_WEBAUTHN_ORIGINS. An origin outside
 * the RP id's domain could never complete a ceremony, so it stops the start instead of failing every
 * passkey at run time.
 */
export function readWebAuthnSettings(reader: ConfigReader): WebAuthnSettings {
  const rpId = reader.string('IDENTITY_WEBAUTHN_RP_ID', 'localhost') ?? 'localhost';
  if (!hostnamePattern.test(rpId)) {
    reader.problem(`IDENTITY_WEBAUTHN_RP_ID: "${rpId}" must be a lower-case domain name such as numezis.ch`);
  }
  const rpName = reader.string('IDENTITY_WEBAUTHN_RP_NAME', 'Numezis') ?? 'Numezis';
  const origins = (reader.string('IDENTITY_WEBAUTHN_ORIGINS', 'http://localhost:4000') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (origins.length === 0) reader.problem('IDENTITY_WEBAUTHN_ORIGINS: at least one origin is required');
  for (const origin of origins) {
    const problem = originProblem(origin, rpId);
    if (problem !== null) reader.problem(`IDENTITY_WEBAUTHN_ORIGINS: "${origin}" ${problem}`);
  }
  return { rpId, rpName, origins };
}

function originProblem(origin: string, rpId: string): string | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'must be an origin such as https://app.numezis.ch';
  }
  // Browsers put the serialised origin in clientDataJSON; anything else (a path, a trailing slash,
  // upper case) would never match it.
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
    return 'must be an origin such as https://app.numezis.ch';
  }
  if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
    return `is not within IDENTITY_WEBAUTHN_RP_ID "${rpId}"`;
  }
  return null;
}
