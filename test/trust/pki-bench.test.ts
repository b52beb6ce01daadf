import { describe, expect, it } from 'vitest';
import { run } from '../../bench/pki.js';

// `npm run bench -- pki` is how docs/benchmarks.md gets its figures; a short run here keeps the
// bench itself from rotting (every request it times must be answered 200, or it throws).
describe('bench pki --quick', () => {
  it('reports issuance, mTLS kept-alive / new connection / resumed, and onboarding round trips per second', async () => {
    const result = await run(['--quick']);
    expect(result.bench).toBe('pki');
    expect(result.figures.map((f) => `${f.name} ${f.unit}`)).toEqual([
      'certificate issuance /s',
      'mTLS request, kept-alive req/s',
      'mTLS request, new connection req/s',
      'mTLS request, resumed session req/s',
      'onboarding round trip /s',
    ]);
    for (const f of result.figures) expect(f.value, f.name).toBeGreaterThan(0);
  }, 90_000);
});
