import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashTicket, isWellFormedTicket, newTicket, ticketState } from './tickets.ts';

describe('tickets', () => {
  it('are 256 random bits, stored only as their SHA-256', () => {
    const ticket = newTicket();
    assert.ok(isWellFormedTicket(ticket));
    assert.notEqual(newTicket(), ticket);
    assert.equal(hashTicket(ticket).length, 32);
    assert.notDeepEqual(hashTicket(ticket), Buffer.from(ticket));
  });

  it('refuse anything but a ticket we could have issued', () => {
    for (const value of ['', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}/`, `${'a'.repeat(42)}=`, 42, null]) {
      assert.equal(isWellFormedTicket(value), false, String(value));
    }
  });

  it('are usable until they expire, once', () => {
    const expiresAt = new Date(10_000);
    assert.equal(ticketState({ expiresAt, usedAt: null }, 9_999), 'usable');
    assert.equal(ticketState({ expiresAt, usedAt: null }, 10_000), 'expired');
    assert.equal(ticketState({ expiresAt, usedAt: new Date(5_000) }, 6_000), 'used');
    assert.equal(ticketState({ expiresAt, usedAt: new Date(5_000) }, 20_000), 'used');
  });
});
