import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statutoryUntil } from './statutory.ts';

describe('statutory retention of accounting events', () => {
  it('keeps ten years from the end of the calendar fiscal year', () => {
    assert.equal(statutoryUntil(new Date('2026-03-15T10:00:00Z'), 1).toISOString(), '2037-01-01T00:00:00.000Z');
    assert.equal(statutoryUntil(new Date('2026-12-31T23:59:59Z'), 1).toISOString(), '2037-01-01T00:00:00.000Z');
  });

  it('counts from the end of a fiscal year that starts in July', () => {
    // FY 2025/26 runs 1 July 2025 to 30 June 2026.
    assert.equal(statutoryUntil(new Date('2026-03-15T00:00:00Z'), 7).toISOString(), '2036-07-01T00:00:00.000Z');
    assert.equal(statutoryUntil(new Date('2026-07-01T00:00:00Z'), 7).toISOString(), '2037-07-01T00:00:00.000Z');
  });
});
