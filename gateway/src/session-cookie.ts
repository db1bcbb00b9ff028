/**
 * The session cookie: `__Host-` pins it to this host and path `/` and demands `Secure`; browsers
 * treat http://localhost as secure, so development works without TLS. HttpOnly keeps it from
 * scripts, SameSite=Strict from cross-site requests.
 */
export const sessionCookieName = '__Host-numezis-session';

export function readSessionCookie(header: string | undefined): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === sessionCookieName) {
      return part.slice(separator + 1).trim();
    }
  }
  return null;
}

export function setSessionCookie(token: string, maxAgeSeconds: number): string {
  return `${sessionCookieName}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearSessionCookie(): string {
  return `${sessionCookieName}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

/** What identity asked for in its `x-numezis-session` response header. */
export type SessionInstruction = { kind: 'set'; token: string; maxAgeSeconds: number } | { kind: 'clear' };

export function parseSessionInstruction(header: string | null): SessionInstruction | null {
  if (header === null) return null;
  if (header === 'clear') return { kind: 'clear' };
  const match = /^set ([A-Za-z0-9_-]{43}) (\d{1,9})$/.exec(header);
  return match === null ? null : { kind: 'set', token: match[1] ?? '', maxAgeSeconds: Number(match[2]) };
}
