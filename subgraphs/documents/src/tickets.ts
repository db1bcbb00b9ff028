import { createHash, randomBytes } from 'node:crypto';

/**
 * Upload tickets and download links are bearer secrets inside a URL, so they follow the rules of
 * every secret token here: 256 random bits, only the SHA-256 stored, single use, short-lived, and
 * looked up only within the workspace the caller acts in.
 */
export function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

export function hashTicket(ticket: string): Buffer {
  return createHash('sha256').update(ticket).digest();
}

/** Tickets we issued are 43 base64url characters; anything else is not worth a database lookup. */
export function isWellFormedTicket(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

export type TicketState = 'usable' | 'used' | 'expired';

/** Used beats expired: a ticket that did its job says so, whenever it is presented again. */
export function ticketState(
  ticket: { readonly expiresAt: Date; readonly usedAt: Date | null },
  now: number,
): TicketState {
  if (ticket.usedAt !== null) return 'used';
  return ticket.expiresAt.getTime() > now ? 'usable' : 'expired';
}

/** The gateway paths a client follows; the gateway hands them on to the internal routes. */
export const uploadUrlOf = (tenantId: string, ticket: string) => `/uploads/${tenantId}/${ticket}`;
export const downloadUrlOf = (tenantId: string, ticket: string) => `/downloads/${tenantId}/${ticket}`;

/** What the gateway calls, with the ticket in a header so that it never appears in a URL here. */
export const internalUploadPath = '/internal/uploads';
export const internalDownloadPath = '/internal/downloads';
export const ticketHeader = 'x-numezis-ticket';
