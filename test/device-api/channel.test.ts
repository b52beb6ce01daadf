import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateManifestSchema } from '../../wire/margo/manifest.js';
import { startHarness, type Answer, type Harness } from '../orchestrator/harness.js';
import { onboard, type TestDevice } from './support.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';

// The device channel against the real scheduler: capabilities in, deployment placed, manifest
// out, status back to the operator's aggregation.
let h: Harness;
let dir: string;
let meter: TestDevice;
let other: TestDevice;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-channel-'));
  h = await startHarness();
  meter = await onboard(h, 'meter-1', dir);
  other = await onboard(h, 'meter-2', dir);
  expect((await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
  expect((await h.admin('POST', '/api/v1/catalog/apps', { id: 'sensor', vendor: 'acme' })).status).toBe(201);
  // As admission stores a verified version (admission itself: test/supply-chain/).
  await insertVerifiedVersion(h.cp.deps.store, {
    appId: 'sensor',
    version: '1.0.0',
    digest: `sha256:${'5'.repeat(64)}`,
    sizeBytes: 2048,
    rootsFingerprint: h.cp.deps.artifacts!.roots.fingerprint,
  });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const caps = (id: string, labels: Record<string, unknown> = {}) => ({
  properties: {
    id,
    vendor: 'acme',
    modelNumber: 'm1',
    serialNumber: `sn-${id}`,
    cpus: [{ cores: 4, architecture: 'arm64' }],
    memory: '4Gi',
    supportedDeploymentTypes: ['custom'],
  },
  labels,
});

function expectProblem(a: Answer, status: number, field?: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.headers['content-type']).toContain('application/problem+json');
  if (field !== undefined) expect(a.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

const manifest = async (d: TestDevice) => stateManifestSchema.parse((await d.get(h, '/api/v1/deployments')).body);

describe('capabilities', () => {
  it('PUT creates (201) then updates (200); the scheduler reads them', async () => {
    expect((await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: caps('meter-1', { line: 'north' }) })).status).toBe(201);
    expect((await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: caps('meter-1', { line: 'north' }) })).status).toBe(200);
    expect((await other.send(h, 'PUT', '/api/v1/capabilities/meter-2', { json: caps('meter-2', { line: 'south' }) })).status).toBe(201);
  });

  it("another device's id is 403 whether it exists or not; a child id below the caller is 404", async () => {
    const exists = await meter.send(h, 'PUT', '/api/v1/capabilities/meter-2', { json: caps('meter-2') });
    const missing = await meter.send(h, 'PUT', '/api/v1/capabilities/no-such-device', { json: caps('no-such-device') });
    expectProblem(exists, 403);
    expectProblem(missing, 403);
    expect(exists.body.code).toBe(missing.body.code);
    expect(exists.body.detail).toBe(missing.body.detail);
    expectProblem(await meter.send(h, 'DELETE', '/api/v1/capabilities/meter-2'), 403);
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1/child-3', { json: caps('meter-1/child-3') }), 404);
  });

  it('bad input names the field', async () => {
    expectProblem(
      await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', {
        json: { ...caps('meter-1'), properties: { ...caps('meter-1').properties, vendor: undefined } },
      }),
      422,
      'properties.vendor',
    );
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: { ...caps('meter-1'), surprise: {} } }), 422, 'surprise');
    expect(
      (await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: { ...caps('meter-1', { line: 'north' }), 'x-acme-extensions': { fw: '1.2' } } }))
        .status,
    ).toBe(200);
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: caps('meter-9') }), 422, 'properties.id');
    expectProblem(
      await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', {
        json: { ...caps('meter-1'), properties: { ...caps('meter-1').properties, memory: 'lots' } },
      }),
      422,
      'properties.memory',
    );
    expectProblem(
      await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: { ...caps('meter-1'), labels: { ok: { nested: true } } } }),
      422,
      'labels.ok',
    );
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { raw: '{"properties":', headers: { 'content-type': 'application/json' } }), 400);
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { raw: 'x', headers: { 'content-type': 'text/plain' } }), 415);
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/bad%20id', { json: caps('meter-1') }), 400, 'deviceId');
    expectProblem(await meter.send(h, 'PUT', '/api/v1/capabilities/meter-1', { json: [] }), 422, 'body');
  });
});

describe('deployment to status', () => {
  it('a deployment placed by the scheduler reaches the device in a new manifest version', async () => {
    const before = (await manifest(meter)).manifestVersion;
    const created = await h.admin('POST', '/api/v1/admin/deployments', {
      id: 'sensor-north',
      app: 'sensor',
      version: '1.0.0',
      grants: {},
      deviceConstraints: { eligibilityRules: [{ labelSelector: { matchExpressions: [{ key: 'line', operator: 'In', values: ['north'] }] } }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const m = await manifest(meter);
    expect(m.manifestVersion).toBeGreaterThan(before);
    expect(m.deployments.map((d) => d.deploymentId)).toEqual(['sensor-north']);
    expect((await manifest(other)).deployments).toEqual([]);
  });

  it('status reports: 201 first, 200 after, and the operator sees them aggregated', async () => {
    const version = (await manifest(meter)).manifestVersion;
    const report = (state: string, extra: object = {}) => ({
      deploymentId: 'sensor-north',
      deviceId: 'meter-1',
      adoptedManifestVersion: version,
      status: { state, ...extra },
    });
    expect((await meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { json: report('installing') })).status).toBe(201);
    expect((await meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { json: report('installed') })).status).toBe(200);
    const status = await h.admin('GET', '/api/v1/admin/deployments/sensor-north/status');
    expect(status.body.counts).toMatchObject({ installed: 1 });
    expect(status.body.usage).toEqual({});
  });

  it("keeps the resource usage a device reports with its status, and shows it with that device's status", async () => {
    const version = (await manifest(meter)).manifestVersion;
    // The engine the app runs on is the usage's one text member (docs/accounting.md).
    const usage = {
      memory: { bytes: 131072, peakPages: 2 },
      cpu: { busyMs: 12.5 },
      hostCalls: { 'berth:host/log': 3 },
      restarts: 1,
      engine: 'wasmtime@49.0.0+winch',
    };
    const report = {
      deploymentId: 'sensor-north',
      deviceId: 'meter-1',
      adoptedManifestVersion: version,
      status: { state: 'installed' },
      'x-berth-extensions': { version: '1.0.0', usage },
    };
    expect((await meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { json: report })).status).toBe(200);
    expect((await h.admin('GET', '/api/v1/admin/deployments/sensor-north/status')).body.usage).toEqual({ 'meter-1': usage });
    // A later report without usage keeps the last one known.
    expect(
      (await meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { json: { ...report, 'x-berth-extensions': { version: '1.0.0' } } })).status,
    ).toBe(200);
    expect((await h.admin('GET', '/api/v1/admin/deployments/sensor-north/status')).body.usage).toEqual({ 'meter-1': usage });
    // Usage that is not numbers, or too big, is refused by name and not recorded.
    const refused = (u: unknown) =>
      meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { json: { ...report, 'x-berth-extensions': { usage: u } } });
    expectProblem(await refused({ memory: 'lots' }), 422, 'x-berth-extensions.usage.memory');
    expectProblem(await refused({ engine: 42 }), 422, 'x-berth-extensions.usage.engine');
    expectProblem(await refused({ engine: 'wasmtime 49; rm -rf /' }), 422, 'x-berth-extensions.usage.engine');
    expectProblem(await refused(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))), 422, 'x-berth-extensions.usage');
    expect((await h.admin('GET', '/api/v1/admin/deployments/sensor-north/status')).body.usage).toEqual({ 'meter-1': usage });
  });

  it('status bad input: field named, other device 403, not placed 403, version from the future 422', async () => {
    const version = (await manifest(meter)).manifestVersion;
    const report = { deploymentId: 'sensor-north', deviceId: 'meter-1', adoptedManifestVersion: version, status: { state: 'installed' } };
    const post = (d: TestDevice, path: string, json: unknown) => d.send(h, 'POST', path, { json });
    expectProblem(await post(meter, '/api/v1/deployments/sensor-north/status', { ...report, status: { state: 'dancing' } }), 422, 'status.state');
    expectProblem(await post(meter, '/api/v1/deployments/sensor-north/status', { ...report, adoptedManifestVersion: 0 }), 422, 'adoptedManifestVersion');
    expectProblem(await post(meter, '/api/v1/deployments/sensor-north/status', { ...report, deploymentId: 'other' }), 422, 'deploymentId');
    expectProblem(
      await post(meter, '/api/v1/deployments/sensor-north/status', { ...report, adoptedManifestVersion: version + 5 }),
      422,
      'adoptedManifestVersion',
    );
    expectProblem(await post(meter, '/api/v1/deployments/sensor-north/status', { ...report, deviceId: 'meter-2' }), 403);
    expectProblem(await post(other, '/api/v1/deployments/sensor-north/status', { ...report, deviceId: 'meter-2', adoptedManifestVersion: 1 }), 403);
    expectProblem(await post(meter, '/api/v1/deployments/Not_An_Id!/status', report), 400, 'deploymentId');
    expectProblem(
      await meter.send(h, 'POST', '/api/v1/deployments/sensor-north/status', { raw: 'nope', headers: { 'content-type': 'application/json' } }),
      400,
    );
    // Nothing of the refused reports was recorded.
    expect((await h.admin('GET', '/api/v1/admin/deployments/sensor-north/status')).body.counts).toMatchObject({ installed: 1, failed: 0 });
  });

  it('deleting capabilities (204, then 404) takes the deployment off the device', async () => {
    expect((await meter.send(h, 'DELETE', '/api/v1/capabilities/meter-1')).status).toBe(204);
    expectProblem(await meter.send(h, 'DELETE', '/api/v1/capabilities/meter-1'), 404);
    expect((await manifest(meter)).deployments).toEqual([]);
  });

  it('random and mutated bodies on PUT capabilities and POST status: 4xx problems or a success, never a 500 (bounded: 40 each)', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const junk = (depth = 0): unknown => {
      const r = rand();
      if (depth > 2 || r < 0.3) return [null, true, -1, 1e308, '', 'x'.repeat(300), '../..', '\u0000'][Math.floor(rand() * 8)];
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 3) }, () => junk(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [
          ['properties', 'labels', 'id', 'status', 'deviceId', `k${i}`][Math.floor(rand() * 6)]!,
          junk(depth + 1),
        ]),
      );
    };
    const version = (await manifest(other)).manifestVersion;
    const goodStatus = { deploymentId: 'sensor-north', deviceId: 'meter-2', adoptedManifestVersion: version, status: { state: 'installed' } };
    for (let i = 0; i < 40; i++) {
      const mutated = (base: Record<string, unknown>) => ({ ...base, [Object.keys(base)[i % Object.keys(base).length]!]: junk() });
      for (const [path, body] of [
        ['/api/v1/capabilities/meter-2', i % 2 ? junk() : mutated(caps('meter-2', { line: 'south' }))],
        ['/api/v1/deployments/sensor-north/status', i % 2 ? junk() : mutated(goodStatus)],
      ] as const) {
        const method = path.includes('capabilities') ? 'PUT' : 'POST';
        const a = await other.send(h, method, path, { raw: JSON.stringify(body) ?? 'null', headers: { 'content-type': 'application/json' } });
        expect(a.status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(a.body)}`).toBeLessThan(500);
        if (a.status >= 400) expect(a.headers['content-type']).toContain('application/problem+json');
      }
    }
  });

  it('bad path parameters on the document endpoints are 400 naming the field', async () => {
    expectProblem(await meter.send(h, 'DELETE', '/api/v1/capabilities/bad%20id'), 400, 'deviceId');
    expectProblem(await meter.get(h, '/api/v1/deployments/sensor-north/sha256:abc'), 400, 'digest');
    expectProblem(await meter.get(h, `/api/v1/deployments/UPPER/sha256:${'0'.repeat(64)}`), 400, 'deploymentId');
    expectProblem(await meter.get(h, '/api/v1/bundles/md5:00'), 400, 'digest');
    expectProblem(await meter.get(h, `/api/v1/bundles/sha256:${'0'.repeat(64)}`), 404);
    expectProblem(await meter.get(h, '/api/v1/deployments?wait=forever'), 400, 'wait');
    expectProblem(await meter.get(h, '/api/v1/deployments?wait=61'), 400, 'wait');
  });
});
