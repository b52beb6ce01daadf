import { describe, expect, it } from 'vitest';
import { capacityOf, fits, parseQuantity, ZERO } from '../../orchestrator/scheduling/capacity.js';
import { charge, planDeployment, refusalOf, type Candidate, type PlacementSpec } from '../../orchestrator/scheduling/plan.js';

const capsOf = (cores: number, memory: string, arch = 'arm64', storage?: string) => ({
  properties: { id: 'x', vendor: 'v', modelNumber: 'm', serialNumber: 's', cpus: [{ cores, architecture: arch }], memory, ...(storage ? { storage } : {}) },
});
const device = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  status: 'active',
  labels: {},
  capabilities: capsOf(4, '4Gi'),
  used: ZERO,
  load: 0,
  ...over,
});
const every: PlacementSpec = { mode: { kind: 'every' } };

describe('capacity', () => {
  it('parses Margo quantities', () => {
    expect(parseQuantity('512Mi')).toBe(512 * 1024 ** 2);
    expect(parseQuantity('2Gi')).toBe(2 * 1024 ** 3);
    expect(parseQuantity('8Ki')).toBe(8192);
    expect(parseQuantity(1000)).toBe(1000);
    expect(parseQuantity('1.5Gi')).toBeUndefined();
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity(-1)).toBeUndefined();
  });
  it('sums cpus and checks architecture, memory, storage against what is used', () => {
    const cap = capacityOf({
      properties: {
        cpus: [
          { cores: 2, architecture: 'arm64' },
          { cores: 2, architecture: 'amd64' },
        ],
        memory: '1Gi',
        storage: '10Gi',
      },
    });
    expect(cap.cores).toBe(4);
    expect(fits(cap, ZERO, { cpu: { cores: 4, architectures: ['amd64'] } })).toBe(true);
    expect(fits(cap, ZERO, { cpu: { architectures: ['riscv64'] } })).toBe(false);
    expect(fits(cap, { cores: 1, memoryBytes: 0, storageBytes: 0 }, { cpu: { cores: 4 } })).toBe(false);
    expect(fits(cap, { cores: 0, memoryBytes: 512 * 1024 ** 2, storageBytes: 0 }, { memory: '512Mi' })).toBe(true);
    expect(fits(cap, { cores: 0, memoryBytes: 513 * 1024 ** 2, storageBytes: 0 }, { memory: '512Mi' })).toBe(false);
    expect(fits(cap, ZERO, { storage: '11Gi' })).toBe(false);
  });
  it('a requirement the device does not report is not met; no requirement always fits', () => {
    const cap = capacityOf({ properties: {} });
    expect(fits(cap, ZERO, { memory: '1Ki' })).toBe(false);
    expect(fits(cap, ZERO, undefined)).toBe(true);
    expect(capacityOf(undefined).architectures.size).toBe(0);
    expect(capacityOf({ properties: { cpus: 'four', memory: {} } })).toMatchObject({ cores: undefined, memoryBytes: undefined });
  });
});

describe('placement', () => {
  it('never on a pending, denied or revoked device, nor one that has not reported capabilities', () => {
    const all = [
      device('a'),
      device('b', { status: 'revoked' }),
      device('c', { status: 'pending' }),
      device('d', { status: 'denied' }),
      device('e', { capabilities: undefined }),
    ];
    expect(planDeployment(every, all, new Set()).deviceIds).toEqual(['a']);
    expect(refusalOf(every, all[1]!)).toBe('not-active');
    expect(refusalOf(every, all[4]!)).toBe('no-capabilities');
  });
  it('every-device places on each eligible device', () => {
    const spec: PlacementSpec = {
      mode: { kind: 'every' },
      eligibilityRules: [{ labelSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['a'] }] } }],
    };
    const all = [device('d1', { labels: { site: 'a' } }), device('d2', { labels: { site: 'b' } }), device('d3', { labels: { site: 'a' } })];
    expect(planDeployment(spec, all, new Set())).toEqual({ deviceIds: ['d1', 'd3'], unplaced: 0 });
    expect(refusalOf(spec, all[1]!)).toBe('ineligible');
  });
  it('spread places N instances on the least loaded devices and keeps current ones', () => {
    const spec: PlacementSpec = { mode: { kind: 'spread', replicas: 2 } };
    const all = [device('a', { load: 3 }), device('b', { load: 0 }), device('c', { load: 1 }), device('d', { load: 0 })];
    expect(planDeployment(spec, all, new Set())).toEqual({ deviceIds: ['b', 'd'], unplaced: 0 });
    // Already on a (busy): stays there rather than moving.
    expect(planDeployment(spec, all, new Set(['a'])).deviceIds).toEqual(['a', 'b']);
    // A current device that is no longer a candidate is replaced.
    all[0]!.status = 'revoked';
    expect(planDeployment(spec, all, new Set(['a', 'b'])).deviceIds).toEqual(['b', 'd']);
    expect(planDeployment({ mode: { kind: 'spread', replicas: 9 } }, all, new Set()).unplaced).toBe(6);
  });
  it('node-lock restricts to the named devices, still subject to eligibility and health', () => {
    const spec: PlacementSpec = { mode: { kind: 'every' }, deviceIds: ['b', 'c'] };
    const all = [device('a'), device('b'), device('c', { status: 'revoked' })];
    expect(planDeployment(spec, all, new Set()).deviceIds).toEqual(['b']);
    expect(refusalOf(spec, all[0]!)).toBe('not-node-locked');
  });
  it('capacity already used on a device is respected across deployments', () => {
    const big: PlacementSpec = { mode: { kind: 'every' }, capacityRequirements: { memory: '3Gi', cpu: { cores: 2 } } };
    const all = [device('a'), device('b', { capabilities: capsOf(4, '8Gi') })];
    const first = planDeployment(big, all, new Set());
    expect(first.deviceIds).toEqual(['a', 'b']);
    charge(all, first.deviceIds, big);
    // a has 1Gi left, b has 5Gi: only b takes a second one.
    expect(planDeployment(big, all, new Set()).deviceIds).toEqual(['b']);
    expect(refusalOf(big, all[0]!)).toBe('no-capacity');
    expect(all[1]!.load).toBe(1);
  });
  it('a device already holding the deployment keeps it if it fits next to older claims alone', () => {
    const spec: PlacementSpec = { mode: { kind: 'every' }, capacityRequirements: { memory: '3Gi' } };
    const full = { cores: 0, memoryBytes: 3 * 1024 ** 3, storageBytes: 0 };
    const holder = device('a', { used: full, usedByOlder: ZERO });
    const newcomer = device('b', { used: full, usedByOlder: ZERO });
    expect(planDeployment(spec, [holder, newcomer], new Set(['a'])).deviceIds).toEqual(['a']);
    expect(planDeployment(spec, [device('a', { used: full, usedByOlder: full })], new Set(['a'])).deviceIds).toEqual([]);
  });
});
