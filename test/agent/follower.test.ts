import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { AdoptedStateStore } from '../../runtime/agent/adopted-state.js';
import { ControlPlaneClient, type RawAnswer, type RequestOptions } from '../../runtime/agent/control-plane-client.js';
import { pollDesiredState, type FollowerContext } from '../../runtime/agent/desired-state-follower.js';
import { enroll } from '../../runtime/agent/enroll.js';
import type { DeviceIdentity } from '../../runtime/agent/identity-files.js';
import { pinKeys } from '../../runtime/agent/onboarding.js';
import { planFromDocument } from '../../runtime/agent/deployment-plan.js';
import { generateP256 } from '../../trust/x509.js';
import { exportJWK, calculateJwkThumbprint } from 'jose';
import { memoryPlacements, placement, sha256 } from '../device-api/support.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';

/**
 * The follower against a real control plane over mutual TLS, with a "proxy" in between that
 * replays or alters answers: what a TLS-terminating middlebox could do.
 */
let h: Harness;
let dir: string;
const placements = memoryPlacements();
const lines: Record<string, any>[] = [];
const logger = createLogger({ name: 'test-agent', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });

interface Device {
  identity: DeviceIdentity;
  client: ControlPlaneClient;
  ctx(client?: Pick<ControlPlaneClient, 'request'>): FollowerContext;
}

let press1: Device;
let press2: Device;
let keys: Awaited<ReturnType<typeof pinKeys>>;

async function device(id: string): Promise<Device> {
  const token = await h.enrollmentToken({ deviceId: id });
  const identity = await enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, id, 'identity'), credential: { kind: 'token', token } });
  const client = new ControlPlaneClient(h.cp.url, () => ({ identity, ca: h.ca }));
  const documents = new AdoptedStateStore(join(dir, id), logger);
  return {
    identity,
    client,
    ctx: (c = client) => ({ client: c as ControlPlaneClient, identity: () => identity, keys: () => keys, documents, logger }),
  };
}

/** A client that answers the manifest request with `answer` and forwards the rest. */
function replaying(real: ControlPlaneClient, answer: RawAnswer, documents?: (path: string) => RawAnswer | undefined): Pick<ControlPlaneClient, 'request'> {
  return {
    request: async (path: string, o?: RequestOptions) => {
      // Replayed to this device's own request: judged against this device's own certificate.
      if (/^\/api\/v1\/deployments(\?|$)/.test(path)) return { ...answer, identity: undefined };
      return documents?.(path) ?? real.request(path, o);
    },
  };
}

async function manifestAnswer(d: Device): Promise<RawAnswer> {
  return d.client.request('/api/v1/deployments', { headers: { accept: 'application/vnd.margo.manifest.v1+json' } });
}

const changed = (ids: string[]) => h.cp.deps.store.transaction((tx) => h.cp.desiredState.changed(tx, ids));
const events = (name: string) => lines.filter((l) => l.security === true && l.event === name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-follower-'));
  h = await startHarness({ placementSource: placements });
  press1 = await device('press-1');
  press2 = await device('press-2');
  keys = await pinKeys(press1.client, join(dir, 'press-1'), logger);
  placements.set('press-1', [placement('press-1', 'meter-a')]);
  placements.set('press-2', [placement('press-2', 'meter-b')]);
  await manifestAnswer(press1); // version 1 exists for both
  await manifestAnswer(press2);
  await changed(['press-1', 'press-2']);
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('following the signed desired state', () => {
  it('verifies and returns a new state with its documents checked by digest, then 304 on the same ETag', async () => {
    const result = await pollDesiredState(press1.ctx(), { manifestVersion: 0 }, 0);
    expect(result.kind).toBe('changed');
    if (result.kind !== 'changed') return;
    expect(result.state.manifestVersion).toBe(2);
    expect(result.state.documents.map((d) => d.deploymentId)).toEqual(['meter-a']);
    expect(result.state.documents[0]!.digest).toBe(sha256(result.state.documents[0]!.bytes));
    const plan = planFromDocument(result.state.documents[0]!, 'press-1');
    expect(plan).toMatchObject({ vendor: 'acme', app: 'meter', version: '1.2.0', tier: 'worker', grants: { log: {} } });
    expect(await pollDesiredState(press1.ctx(), { etag: result.state.etag, manifestVersion: 2 }, 0)).toEqual({ kind: 'unchanged' });
  });

  it("refuses another device's desired state replayed to it (wrong_device, a security event)", async () => {
    const foreign = await manifestAnswer(press2);
    expect(foreign.status).toBe(200);
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, foreign)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({
      code: 'desired_state.wrong_device',
    });
    expect(events('desired_state.wrong_device').at(-1)).toMatchObject({ deviceId: 'press-1', for: 'press-2' });
  });

  it('refuses an older desired state replayed after a newer one was adopted (version_not_newer)', async () => {
    const old = await manifestAnswer(press1); // version 2
    await changed(['press-1']); // version 3
    const current = await pollDesiredState(press1.ctx(), { manifestVersion: 2 }, 0);
    expect(current.kind === 'changed' && current.state.manifestVersion).toBe(3);
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, old)), { manifestVersion: 3 }, 0)).rejects.toMatchObject({
      code: 'desired_state.version_not_newer',
    });
    expect(events('desired_state.version_not_newer').length).toBeGreaterThan(0);
  });

  it('refuses a manifest altered in transit, even with a matching ETag (manifest_mismatch)', async () => {
    const real = await manifestAnswer(press1);
    const body = JSON.stringify({ ...JSON.parse(real.bytes.toString('utf8')), manifestVersion: 99 });
    const forged: RawAnswer = { ...real, bytes: Buffer.from(body), headers: { ...real.headers, etag: `"${sha256(Buffer.from(body))}"` } };
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, forged)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({
      code: 'desired_state.manifest_mismatch',
    });
    const badEtag: RawAnswer = { ...real, headers: { ...real.headers, etag: `"sha256:${'0'.repeat(64)}"` } };
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, badEtag)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({
      code: 'agent.manifest_digest_mismatch',
    });
  });

  it('refuses a deployment document whose bytes differ from the signed digest', async () => {
    await changed(['press-1']);
    placements.set('press-1', [placement('press-1', 'meter-a', { version: '1.3.0' })]);
    await changed(['press-1']);
    const real = await manifestAnswer(press1);
    const fresh = new AdoptedStateStore(join(dir, 'press-1-fresh'), logger);
    const swap = (path: string): RawAnswer | undefined =>
      path.startsWith('/api/v1/deployments/meter-a/')
        ? { status: 200, headers: {}, bytes: Buffer.from('apiVersion: application.margo.org/v1alpha1\nkind: ApplicationDeployment\n') }
        : undefined;
    const ctx = { ...press1.ctx(replaying(press1.client, real, swap)), documents: fresh };
    await expect(pollDesiredState(ctx, { manifestVersion: 0 }, 0)).rejects.toMatchObject({ code: 'agent.document_digest_mismatch' });
    expect(events('agent.document_digest_mismatch').length).toBeGreaterThan(0);
  });

  it('refuses a body that is not a Margo manifest, naming it', async () => {
    const real = await manifestAnswer(press1);
    const bytes = Buffer.from('{"manifestVersion":"three"}');
    const garbage: RawAnswer = { ...real, bytes, headers: { ...real.headers, etag: `"${sha256(bytes)}"` } };
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, garbage)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({
      code: 'agent.bad_manifest',
      message: expect.stringContaining('manifestVersion'),
    });
  });

  it('refuses an unsigned manifest and one signed by a key that was not pinned', async () => {
    const real = await manifestAnswer(press1);
    const unsigned: RawAnswer = { ...real, headers: { ...real.headers, 'berth-desired-state-signature': undefined } };
    await expect(pollDesiredState(press1.ctx(replaying(press1.client, unsigned)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({
      code: 'agent.desired_state_unsigned',
    });
    const other = await generateP256();
    const jwk = await exportJWK(other.publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const ctx = { ...press1.ctx(), keys: () => [{ ...jwk, kid }] };
    await expect(pollDesiredState(ctx, { manifestVersion: 0 }, 0)).rejects.toMatchObject({ code: 'desired_state.unknown_key' });
  });

  it('refuses a statement bound to another certificate of the same device (wrong_certificate)', async () => {
    const real = await manifestAnswer(press1);
    // The same device id with a certificate the statement was not issued to (say, a copied key).
    const token = await h.enrollmentToken({});
    const stranger = await enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, 'stranger'), credential: { kind: 'token', token } });
    const ctx = { ...press1.ctx(replaying(press1.client, real)), identity: () => ({ ...stranger, deviceId: 'press-1' }) };
    await expect(pollDesiredState(ctx, { manifestVersion: 0 }, 0)).rejects.toMatchObject({ code: 'desired_state.wrong_certificate' });
  });
});
