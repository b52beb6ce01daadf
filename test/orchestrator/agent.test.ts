import { describe, expect, it } from 'vitest';
import { retryAfter } from '../../runtime/agent/enroll.js';
import { renewalDueAt } from '../../runtime/agent/renewal.js';

describe('device agent timing', () => {
  const identity = { deviceId: 'd', keyPem: '', certificatePem: '', notBefore: new Date('2029-12-31T22:00:00Z'), notAfter: new Date('2030-01-11T00:00:00Z') };

  it('renews at the configured fraction of the lifetime', () => {
    // Issued 2030-01-01T00:00 (notBefore backdated 2 h for clock skew), valid 10 days from issue.
    expect(renewalDueAt(identity, 0.5).toISOString()).toBe('2030-01-06T00:00:00.000Z');
    expect(renewalDueAt(identity, 0.8).toISOString()).toBe('2030-01-09T00:00:00.000Z');
    // A certificate shorter than the backdate margin counts from notBefore (still renewed before expiry).
    expect(renewalDueAt({ ...identity, notAfter: new Date('2030-01-01T00:00:00Z') }, 0.5).toISOString()).toBe('2029-12-31T23:00:00.000Z');
    for (const bad of [0, 1, -0.5, 2, NaN]) expect(() => renewalDueAt(identity, bad)).toThrow(/between 0 and 1/);
  });

  it('follows the server-advised Retry-After within bounds', () => {
    expect(retryAfter('7')).toBe(7);
    expect(retryAfter(undefined, 12)).toBe(12);
    expect(retryAfter('soon', 9)).toBe(9);
    expect(retryAfter('0')).toBe(1);
    expect(retryAfter('999999')).toBe(3600);
    expect(retryAfter(['4', '8'])).toBe(4);
  });
});
