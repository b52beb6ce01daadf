import { describe, expect, it } from 'vitest';
import { migrations } from '../../orchestrator/store/migrations.js';
import { TIERS } from '../../wire/tier.js';

/**
 * The deployments table keeps a CHECK on its tier column (a released migration, never edited);
 * its list must stay the wire's tier enum, or a tier the control plane admits fails to insert
 * (or one it no longer admits stays storable).
 */
describe('store tier CHECK', () => {
  it('lists exactly the wire tiers', () => {
    const checks = migrations.flatMap((m) => m.statements).flatMap((s) => [...s.matchAll(/CHECK \(tier IN \(([^)]*)\)\)/g)].map((m) => m[1]!));
    expect(checks.length).toBeGreaterThan(0);
    for (const list of checks) {
      const tiers = [...list.matchAll(/'([^']*)'/g)].map((m) => m[1]);
      expect([...tiers].sort()).toEqual([...TIERS].sort());
    }
  });
});
