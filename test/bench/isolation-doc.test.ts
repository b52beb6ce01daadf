import { describe, expect, it } from 'vitest';
import { columnKey, renderIsolationDoc, type IsolationData, type Measured } from '../../bench/isolation-doc.js';
import { isolationTargets } from '../../bench/isolation-targets.js';
import { BOUNDARIES, type ProbeColumn } from '../../bench/isolation-probes.js';

const MiB = 2 ** 20;
const probe = (verdict: 'stopped' | 'not stopped'): ProbeColumn =>
  Object.fromEntries(BOUNDARIES.map((b) => [b, { verdict, detail: `${verdict} here` }])) as ProbeColumn;

/** Two engines, every tier, a container: cold starts chosen so each target's verdict is known. */
function twoEngines(): IsolationData {
  const measured: Record<string, Measured> = {};
  const tiers = { jco: { instance: 1.25, worker: 39, process: 120, prestarted: 6.3 }, wasmtime: { instance: 0.3, worker: 30, process: 100, prestarted: 30 } };
  for (const [engine, cold] of Object.entries(tiers)) {
    for (const tier of ['instance', 'worker', 'process'] as const) {
      const fresh = tier === 'instance';
      const started = fresh ? (engine === 'jco' ? 1000 : 10_000) : 10;
      const perApp = fresh ? (engine === 'jco' ? 0.25 : 0.05) : 8;
      measured[columnKey(tier, engine)] = {
        engine,
        column: tier,
        coldMs: [cold[tier]],
        invokeUs: [40],
        memory: { started, bytesTotal: perApp * MiB * started, note: '', fresh },
      };
    }
    measured[columnKey('worker, pre-started thread', engine)] = { engine, column: 'worker, pre-started thread', coldMs: [cold.prestarted], invokeUs: [] };
  }
  measured.container = { coldMs: [40], invokeUs: [25_000], memory: { started: 20, bytesTotal: 0.68 * MiB * 20, note: '' } };
  const probes: Record<string, ProbeColumn> = { [columnKey('instance', 'wasmtime')]: probe('stopped'), container: probe('not stopped') };
  return {
    machine: { date: '2026-12-07T08:00:00Z', node: 'v20', platform: 'linux', cpus: 'x', cores: 2, memoryGiB: 8 },
    load: { before: [4], after: [5] },
    oci: 'runc 1.1.5 (runc)',
    ociTried: ['runc: used'],
    measured,
    probes,
    quick: false,
  };
}

describe('docs/isolation.md from a run on both engines', () => {
  it('judges each target against the measurement of its own tier and engine, not the first of that tier', () => {
    const targets = isolationTargets(twoEngines());
    const find = (what: string) => targets.find((t) => t.what === what)!;
    // Wasmtime's instance tier: 40 / 0.3 = 133× against issue 13's 100×; jco's: 32× against issue 7's 50×.
    expect(find('wasmtime: `instance` cold start, times faster than the container')).toMatchObject({ limit: 100, met: true });
    expect(find('wasmtime: `instance` cold start, times faster than the container').value).toBeCloseTo(133.3, 1);
    expect(find('jco: `instance` cold start, times faster than the container')).toMatchObject({ value: 32, limit: 50, met: false });
    expect(find('jco: `worker, pre-started thread` cold start, times faster than the container').met).toBe(true);
    expect(find('wasmtime: `worker, pre-started thread` cold start, times faster than the container').met).toBe(false);
    expect(find('wasmtime: instance-tier apps within 1 GiB')).toMatchObject({ value: 10_000, limit: 10_000, met: true });
    expect(find('jco: instance-tier apps within 1 GiB')).toMatchObject({ value: 1000, limit: 1000, met: true });
  });

  it('shows a row per tier and engine, the many-apps figures of each engine, and the verdicts', () => {
    const doc = renderIsolationDoc(twoEngines());
    for (const engine of ['jco', 'wasmtime']) {
      for (const tier of ['instance', 'worker', 'process', 'worker, pre-started thread']) expect(doc).toContain(`| ${tier} | ${engine} |`);
    }
    expect(doc).toContain('| container | — |');
    expect(doc).toContain('**10,000 instance-tier apps on wasmtime**');
    expect(doc).toContain('**1,000 instance-tier apps on jco**');
    expect(doc).toMatch(/- wasmtime: `instance` cold start ≥ 100× faster than the container: 133\.3× — met/);
    expect(doc).toMatch(/- jco: `instance` cold start ≥ 50× faster than the container: 32\.0× — \*\*not met\*\*/);
    // The boundary table has a column per tier and engine measured.
    expect(doc).toContain('| | instance (wasmtime) | container |');
  });

  it('says there is no container column, and judges no cold-start target, when no OCI runtime worked', () => {
    const data = twoEngines();
    delete data.measured.container;
    data.oci = undefined;
    data.ociTried = ['crun: not installed (Debian package crun)'];
    expect(isolationTargets(data).filter((t) => t.what.includes('faster'))).toEqual([]);
    expect(renderIsolationDoc(data)).toContain('No container column: crun: not installed');
  });
});
