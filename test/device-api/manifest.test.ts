import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DESIRED_STATE_SIGNATURE_HEADER } from '../../trust/desired-state/statement.js';
import { verifyDesiredState } from '../../trust/desired-state/verify.js';
import { applicationDeploymentSchema } from '../../wire/margo/application-deployment.js';
import { stateManifestSchema } from '../../wire/margo/manifest.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { memoryPlacements, onboard, placement, sha256, type TestDevice } from './support.js';

let h: Harness;
let dir: string;
let press: TestDevice;
let other: TestDevice;
const placements = memoryPlacements();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-device-api-'));
  h = await startHarness({ placementSource: placements });
  press = await onboard(h, 'press-1', dir);
  other = await onboard(h, 'press-2', dir);
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const changed = (ids: string[]) => h.cp.deps.store.transaction((tx) => h.cp.desiredState.changed(tx, ids));

async function manifestOf(d: TestDevice, headers: Record<string, string> = {}) {
  const a = await d.raw(h, '/api/v1/deployments', headers);
  return { ...a, manifest: a.status === 200 ? stateManifestSchema.parse(JSON.parse(a.bytes.toString('utf8'))) : undefined };
}

describe('GET /api/v1/deployments', () => {
  it('serves version 1 with no deployments to a new device; the ETag is the sha256 of the exact bytes', async () => {
    const a = await manifestOf(press);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/vnd.margo.manifest.v1+json');
    expect(a.headers['cache-control']).toBe('private');
    expect(a.headers.etag).toBe(`"${sha256(a.bytes)}"`);
    expect(a.manifest).toEqual({ manifestVersion: 1, bundle: null, deployments: [] });
    // RFC 8785: keys sorted, no whitespace.
    expect(a.bytes.toString()).toBe('{"bundle":null,"deployments":[],"manifestVersion":1}');
  });

  it('answers 304 on If-None-Match with the current ETag, 200 on any other', async () => {
    const first = await manifestOf(press);
    const etag = first.headers.etag as string;
    const again = await manifestOf(press, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe('private');
    expect((await manifestOf(press, { 'if-none-match': `W/${etag}, "sha256:${'0'.repeat(64)}"` })).status).toBe(304);
    expect((await manifestOf(press, { 'if-none-match': `"sha256:${'0'.repeat(64)}"` })).status).toBe(200);
  });

  it('406 when the client does not accept the Margo manifest type; 200 when it does', async () => {
    const refused = await press.get(h, '/api/v1/deployments', { accept: 'text/html' });
    expect(refused.status).toBe(406);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect((await press.get(h, '/api/v1/deployments', { accept: 'application/vnd.margo.manifest.v1+json;q=0' })).status).toBe(406);
    expect((await press.get(h, '/api/v1/deployments', { accept: 'text/html, application/vnd.margo.manifest.v1+json' })).status).toBe(200);
    expect((await press.get(h, '/api/v1/deployments', { accept: '*/*' })).status).toBe(200);
  });

  it('a placement change gives a higher version whose YAML and bundle digests are the sha256 of the bytes served', async () => {
    const before = (await manifestOf(press)).manifest!.manifestVersion;
    placements.set('press-1', [
      placement('press-1', 'meter-north', {
        limits: { memoryBytes: 64 << 20 },
        parameters: { rate: { value: 5, targets: [{ pointer: '/rate', components: ['meter'] }] } },
      }),
      placement('press-1', 'logger', { app: 'logger' }),
    ]);
    await changed(['press-1']);
    const a = await manifestOf(press);
    const m = a.manifest!;
    expect(m.manifestVersion).toBe(before + 1);
    expect(m.deployments.map((d) => d.deploymentId)).toEqual(['logger', 'meter-north']);
    for (const d of m.deployments) {
      const doc = await press.raw(h, d.url);
      expect(doc.status).toBe(200);
      expect(doc.headers['content-type']).toBe('application/yaml');
      expect(doc.headers['cache-control']).toBe('private, max-age=31536000, immutable');
      expect(sha256(doc.bytes)).toBe(d.digest);
      expect(doc.bytes.length).toBe(d.sizeBytes);
      const deployment = applicationDeploymentSchema.parse(parse(doc.bytes.toString('utf8')));
      expect(deployment.metadata).toMatchObject({ name: d.deploymentId, deviceId: 'press-1' });
      expect(deployment.spec.deploymentProfile.type).toBe('custom');
      expect(deployment.spec.deploymentProfile.components[0]!.properties).toMatchObject({ repository: 'oci://registry.test/acme/meter', revision: '1.2.0' });
      expect((deployment.spec.deploymentProfile as Record<string, unknown>)['x-berth-extensions']).toMatchObject({
        runtime: 'wasm-component',
        tier: 'worker',
        grants: { log: {} },
      });
      // Immutable: the same bytes every time.
      expect((await press.raw(h, d.url)).bytes.equals(doc.bytes)).toBe(true);
    }
    const bundle = await press.raw(h, m.bundle!.url);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toBe('application/vnd.margo.bundle.v1+tar+gzip');
    expect(sha256(bundle.bytes)).toBe(m.bundle!.digest);
    expect(bundle.bytes.length).toBe(m.bundle!.sizeBytes);
    const tar = gunzipSync(bundle.bytes).toString('latin1');
    expect(tar).toContain('logger.yaml');
    expect(tar).toContain('meter-north.yaml');
    expect((await press.raw(h, m.bundle!.url, { 'if-none-match': `"${m.bundle!.digest}"` })).status).toBe(304);
  });

  it('the same placements re-rendered give the same document digests and only a new version', async () => {
    const before = (await manifestOf(press)).manifest!;
    await changed(['press-1']);
    const after = (await manifestOf(press)).manifest!;
    expect(after.manifestVersion).toBe(before.manifestVersion + 1);
    expect(after.deployments).toEqual(before.deployments);
    expect(after.bundle).toEqual(before.bundle);
  });

  it('carries a signature beside the unsigned body that the agent library verifies', async () => {
    const keys = (await press.get(h, '/api/v1/desired-state/keys')).body.keys;
    const a = await manifestOf(press);
    const jws = a.headers[DESIRED_STATE_SIGNATURE_HEADER] as string;
    const m = a.manifest!;
    const claims = await verifyDesiredState(jws, {
      keys,
      deviceId: 'press-1',
      certificateThumbprint: press.thumbprint,
      lastAdoptedVersion: m.manifestVersion - 1,
      manifest: { digest: sha256(a.bytes), manifestVersion: m.manifestVersion, deployments: m.deployments, bundleDigest: m.bundle?.digest ?? null },
    });
    expect(claims).toMatchObject({ sub: 'press-1', manifestVersion: m.manifestVersion, iss: 'spiffe://fleet.test' });
    // Another device cannot use it: it is bound to press-1 and its certificate.
    await expect(
      verifyDesiredState(jws, {
        keys,
        deviceId: 'press-2',
        certificateThumbprint: other.thumbprint,
        lastAdoptedVersion: 0,
        manifest: { digest: sha256(a.bytes), manifestVersion: m.manifestVersion, deployments: m.deployments, bundleDigest: m.bundle?.digest ?? null },
      }),
    ).rejects.toMatchObject({ code: 'desired_state.wrong_device' });
    // A 304 carries it too, so an agent can refresh an expiring statement without a new body.
    const notModified = await manifestOf(press, { 'if-none-match': a.headers.etag as string });
    expect(notModified.headers[DESIRED_STATE_SIGNATURE_HEADER]).toBe(jws);
  });

  it("another device sees none of this device's documents (404), and its own manifest is its own", async () => {
    const m = (await manifestOf(press)).manifest!;
    for (const url of [...m.deployments.map((d) => d.url), m.bundle!.url]) {
      const a = await other.get(h, url);
      expect(a.status).toBe(404);
      expect(a.headers['content-type']).toContain('application/problem+json');
    }
    expect((await manifestOf(other)).manifest!.deployments).toEqual([]);
    // A digest under the wrong deployment id is not available either.
    const [first, second] = m.deployments;
    expect((await press.get(h, `/api/v1/deployments/${second!.deploymentId}/${first!.digest}`)).status).toBe(404);
  });

  it('without a client certificate nothing is served', async () => {
    const { call } = await import('../orchestrator/harness.js');
    expect((await call(`${h.cp.url}/api/v1/deployments`, { ca: h.ca })).status).toBe(401);
  });
});

describe('long-poll', () => {
  it('a device waiting with its ETag is answered as soon as its state changes', async () => {
    const current = await manifestOf(other);
    const parked = other.raw(h, '/api/v1/deployments?wait=60', { 'if-none-match': current.headers.etag as string });
    // Give the request time to park, then change the state.
    const deadline = Date.now() + 5000;
    while (h.cp.desiredState.waiting === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(h.cp.desiredState.waiting).toBe(1);
    placements.set('press-2', [placement('press-2', 'meter-south')]);
    await changed(['press-2']);
    // Woken by the change, not by the end of its 60 s wait (the sentinel settles first otherwise).
    const sentinel = new Promise<'not woken'>((r) => setTimeout(() => r('not woken'), 30_000).unref());
    const answer = await Promise.race([parked, sentinel]);
    if (answer === 'not woken') throw new Error('the long-poll was not woken by the change');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.bytes.toString()).deployments[0].deploymentId).toBe('meter-south');
  });

  it('a wait that sees no change ends in 304 after the wait', async () => {
    const current = await manifestOf(other);
    const a = await other.raw(h, '/api/v1/deployments?wait=1', { 'if-none-match': current.headers.etag as string });
    expect(a.status).toBe(304);
    expect(h.cp.desiredState.waiting).toBe(0);
  });
});
