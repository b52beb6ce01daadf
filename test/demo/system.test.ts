import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDemoCache } from '../../cli/demo/apps.js';
import { runSystemDemo, type RunningDemo } from '../../cli/demo/system.js';
import { wasmtimeLibrary } from '../support/engines.js';
import { suiteTempDir } from '../support/tmp.js';

// What `npm start` runs, end to end through the real parts (embedded registry, control plane
// over TLS, two agents, signed apps): if this breaks, the README's main command is broken.
describe('npm start: the whole system on one machine', () => {
  let demo: RunningDemo;
  const lines: string[] = [];
  const dir = suiteTempDir('system-demo');

  beforeAll(async () => {
    // As after the README's install command: no engine named (`auto`), the library in place
    // (named here, as the install's cache may be elsewhere), so the devices run on Wasmtime.
    process.env.BERTH_ENGINE = '';
    process.env.BERTH_WASMTIME_LIBRARY = await wasmtimeLibrary();
    demo = await runSystemDemo({ dir, appCache: defaultDemoCache(), say: (l) => lines.push(l) });
  }, 240_000);
  afterAll(() => demo?.stop());

  it('runs the sensor on both devices and analytics on line-1 only, from signed and verified artifacts', async () => {
    expect([...demo.agents.keys()]).toEqual(['line-1', 'line-2']);
    for (const agent of demo.agents.values()) expect(agent.adoptedVersion()).toBeGreaterThan(0);
    expect(demo.observed.readings['line-1']).toHaveLength(3);
    expect(demo.observed.readings['line-2']).toHaveLength(3);
    const admitted = lines.filter((l) => l.includes('verified and admitted'));
    expect(admitted).toHaveLength(2);
  });

  it('publishes the trust roots through TUF and runs its devices on them (docs/tuf.md)', async () => {
    expect(lines.some((l) => /^ {3}trust roots published through TUF: root signed by 3 offline keys/.test(l))).toBe(true);
    for (const id of demo.agents.keys()) {
      // Pinned by its fingerprint at first contact: the keys and roots the device uses came from TUF targets.
      const root = JSON.parse(readFileSync(join(dir, 'devices', id, 'tuf', 'root.json'), 'utf8'));
      expect(root.signed.roles.root).toMatchObject({ threshold: 2, keyids: expect.any(Array) });
      expect(root.signed.roles.root.keyids).toHaveLength(3);
    }
  });

  it('says which engine the devices run their apps on: Wasmtime, chosen by auto', () => {
    const names = [...demo.agents.values()].map((a) => a.runtime.engine.name);
    expect(names).toEqual([expect.stringMatching(/^wasmtime@\d+\.\d+\.\d+\+\w+$/), names[0]]);
    expect(lines).toContain(`   their apps run on ${names[0]}`);
    expect(lines.some((l) => l.includes('Wasmtime is not used'))).toBe(false);
  });

  it('passes line-1 readings, and only those, to analytics, which gets a token for its granted audience only', () => {
    expect(demo.observed.summary.readings).toBe(3);
    const line1 = demo.observed.readings['line-1']!;
    expect(demo.observed.summary.mean).toBeCloseTo(line1.reduce((a, b) => a + b, 0) / line1.length, 1);
    expect(demo.observed.tokenSubject).toBe('spiffe://demo.berth.local/device/line-1/workload/globex/analytics');
    expect(demo.observed.refusedAudience).toBe('audience-not-granted(payroll)');
  });
});
