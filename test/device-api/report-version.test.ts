import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateManifestSchema } from '../../wire/margo/manifest.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { onboard, type TestDevice } from './support.js';

// A status report is about the version it names (docs/deployments.md, "Status"): during a rolling
// update, an `installed` report naming the old version (late news, or a device back on its
// last-known-good) is recorded as what it is and does not move the wave on; one naming the new
// version does. Over the real device API (mTLS, Margo status route) and the real rollout.
let h: Harness;
let dir: string;
const devices: TestDevice[] = [];
const DEPLOYMENT = 'sensor-roll';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-report-version-'));
  h = await startHarness();
  for (const id of ['roll-1', 'roll-2']) {
    const d = await onboard(h, id, dir);
    const caps = {
      properties: {
        id,
        vendor: 'acme',
        modelNumber: 'm1',
        serialNumber: `sn-${id}`,
        cpus: [{ cores: 4, architecture: 'arm64' }],
        memory: '4Gi',
        supportedDeploymentTypes: ['custom'],
      },
      labels: { line: 'roll' },
    };
    expect((await d.send(h, 'PUT', `/api/v1/capabilities/${id}`, { json: caps })).status).toBe(201);
    devices.push(d);
  }
  expect((await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
  expect((await h.admin('POST', '/api/v1/catalog/apps', { id: 'sensor', vendor: 'acme' })).status).toBe(201);
  const roots = h.cp.deps.artifacts!.roots.fingerprint;
  await insertVerifiedVersion(h.cp.deps.store, { appId: 'sensor', version: '1.0.0', digest: `sha256:${'6'.repeat(64)}`, rootsFingerprint: roots });
  await insertVerifiedVersion(h.cp.deps.store, { appId: 'sensor', version: '1.1.0', digest: `sha256:${'7'.repeat(64)}`, rootsFingerprint: roots });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const manifestVersion = async (d: TestDevice) => stateManifestSchema.parse((await d.get(h, '/api/v1/deployments')).body).manifestVersion;
const status = async () => (await h.admin('GET', `/api/v1/admin/deployments/${DEPLOYMENT}/status`)).body;
async function report(d: TestDevice, version: string, state = 'installed'): Promise<number> {
  const json = {
    deploymentId: DEPLOYMENT,
    deviceId: d.id,
    adoptedManifestVersion: await manifestVersion(d),
    status: { state },
    'x-berth-extensions': { version },
  };
  return (await d.send(h, 'POST', `/api/v1/deployments/${DEPLOYMENT}/status`, { json })).status;
}

describe('a status report counts for the version it names', () => {
  it('an installed report on the old version does not move a rollout wave; one on the new version does', async () => {
    const created = await h.admin('POST', '/api/v1/admin/deployments', {
      id: DEPLOYMENT,
      app: 'sensor',
      version: '1.0.0',
      grants: {},
      deviceConstraints: { eligibilityRules: [{ labelSelector: { matchExpressions: [{ key: 'line', operator: 'In', values: ['roll'] }] } }] },
      rollout: { batchSize: 1 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const d of devices) expect([200, 201]).toContain(await report(d, '1.0.0'));
    expect((await status()).counts.installed).toBe(2);

    const rolling = await h.admin('POST', `/api/v1/admin/deployments/${DEPLOYMENT}/rollouts`, { version: '1.1.0', batchSize: 1 });
    expect(rolling.status, JSON.stringify(rolling.body)).toBe(202);
    const placements: { deviceId: string; version: string }[] = (await h.admin('GET', `/api/v1/admin/deployments/${DEPLOYMENT}`)).body.placements;
    const waveId = placements.find((p) => p.version === '1.1.0')!.deviceId;
    const wave = devices.find((d) => d.id === waveId)!;
    const rest = devices.find((d) => d.id !== waveId)!;

    // The wave's device, on the new manifest, says it has 1.0.0 installed: recorded, not counted.
    expect(await report(wave, '1.0.0')).toBe(200);
    const held = await status();
    expect(held.rollout.state).toBe('rolling');
    expect(held.versions).toEqual({ '1.0.0': 1, '1.1.0': 1 });
    expect(held.counts).toMatchObject({ installed: 1, pending: 1 });
    expect(held.otherVersions).toEqual([{ deviceId: waveId, placedVersion: '1.1.0', version: '1.0.0', state: 'installed' }]);
    // Each device's last report, whichever version it names (the console's device table).
    expect(held.reports[waveId]).toEqual({ version: '1.0.0', state: 'installed' });
    expect(
      (await h.admin('GET', `/api/v1/admin/deployments/${DEPLOYMENT}`)).body.placements.find((p: { deviceId: string }) => p.deviceId === rest.id).version,
    ).toBe('1.0.0');

    // The same device reporting the new version installed moves the next wave on.
    expect(await report(wave, '1.1.0')).toBe(200);
    const moved = await status();
    expect(moved.versions).toEqual({ '1.1.0': 2 });
    // The next wave's device last reported 1.0.0: it shows as such until it reports on 1.1.0.
    expect(moved.otherVersions).toEqual([{ deviceId: rest.id, placedVersion: '1.1.0', version: '1.0.0', state: 'installed' }]);
    expect(moved.counts).toMatchObject({ installed: 1, pending: 1 });
    expect(await report(rest, '1.1.0')).toBe(200);
    const done = await status();
    expect(done.rollout.state).toBe('done');
    expect(done.counts).toMatchObject({ installed: 2, pending: 0 });
    expect(done.otherVersions).toEqual([]);
    expect(done.reports).toEqual({ [waveId]: { version: '1.1.0', state: 'installed' }, [rest.id]: { version: '1.1.0', state: 'installed' } });
  });
});
