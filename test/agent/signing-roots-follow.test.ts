import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { AdoptedStateStore } from '../../runtime/agent/adopted-state.js';
import { ControlPlaneClient, type RequestOptions } from '../../runtime/agent/control-plane-client.js';
import { pollDesiredState, type FollowerContext } from '../../runtime/agent/desired-state-follower.js';
import { enroll } from '../../runtime/agent/enroll.js';
import type { DeviceIdentity } from '../../runtime/agent/identity-files.js';
import { followSigningRoots, pinKeys, pinnedSigningRoots, pinSigningRoots, type PinnedSigningRoots } from '../../runtime/agent/onboarding.js';
import { loadOrCreateFleetSigning } from '../../trust/signing/fleet-signing.js';
import { signingRootsDigest, type FleetSigningRoots } from '../../trust/signing/roots.js';
import { memoryPlacements, placement } from '../device-api/support.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';

/**
 * Following a rotation of the fleet signing roots, against a real control plane over mutual TLS,
 * with a "proxy" that replays the old roots document or serves a forged one: neither matches the
 * signingRootsDigest the desired-state key signed, so both are refused and the pinned roots kept.
 */
let h: Harness;
let dir: string;
const placements = memoryPlacements();
const lines: Record<string, any>[] = [];
const logger = createLogger({ name: 'test-agent', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
let client: ControlPlaneClient;
let identity: DeviceIdentity;
let keys: Awaited<ReturnType<typeof pinKeys>>;
let pinned: PinnedSigningRoots;
let before: FleetSigningRoots;
const rootsFile = () => join(dir, 'identity', 'signing-roots.json');

/** Forwards everything but the roots document, which it replaces with `roots`. */
function servingRoots(roots: FleetSigningRoots): Pick<ControlPlaneClient, 'request'> {
  return {
    request: async (path: string, o?: RequestOptions) => {
      const real = await client.request(path, o);
      return path === '/api/v1/signing/roots' ? { ...real, bytes: Buffer.from(JSON.stringify(roots)) } : real;
    },
  };
}

function ctx(via: Pick<ControlPlaneClient, 'request'> = client): FollowerContext {
  return {
    client: via as ControlPlaneClient,
    identity: () => identity,
    keys: () => keys,
    signingRootsDigest: () => pinned.digest,
    followSigningRoots: async (signed) => void (pinned = await followSigningRoots(via as ControlPlaneClient, dir, signed, logger)),
    documents: new AdoptedStateStore(dir, logger),
    logger,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-roots-follow-'));
  h = await startHarness({ placementSource: placements });
  const token = await h.enrollmentToken({ deviceId: 'press-1' });
  identity = await enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, 'identity'), credential: { kind: 'token', token } });
  client = new ControlPlaneClient(h.cp.url, () => ({ identity, ca: h.ca }));
  keys = await pinKeys(client, dir, logger);
  pinned = await pinSigningRoots(client, dir, logger);
  before = JSON.parse(readFileSync(rootsFile(), 'utf8')) as FleetSigningRoots;
  placements.set('press-1', [placement('press-1', 'meter-a')]);
  // Onboarded before the rotation: the roots above are the old ones.
  const rotated = await h.admin('POST', '/api/v1/admin/signing/rotations', { signingCa: true });
  expect(rotated.status).toBe(201);
  expect(rotated.body).toMatchObject({ signingCas: 2, timestampAuthorities: 1 });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('following rotated fleet signing roots', () => {
  it('signs the digest of the served roots into the statement', async () => {
    const served = (await h.admin('GET', '/api/v1/signing/roots')).body as FleetSigningRoots;
    expect(h.cp.desiredState.signingRootsDigest).toBe(signingRootsDigest(served));
    expect(signingRootsDigest(served)).not.toBe(pinned.digest);
  });

  it('refuses the old roots replayed, and forged roots, keeping the pinned file (a security event each)', async () => {
    const other = await loadOrCreateFleetSigning(join(dir, 'attacker'));
    const served = (await h.admin('GET', '/api/v1/signing/roots')).body as FleetSigningRoots;
    const forged: FleetSigningRoots = { signingCas: [other.roots.signingCas[0]!, ...served.signingCas], timestampAuthorities: served.timestampAuthorities };
    for (const roots of [before, forged]) {
      await expect(pollDesiredState(ctx(servingRoots(roots)), { manifestVersion: 0 }, 0)).rejects.toMatchObject({ code: 'agent.signing_roots_mismatch' });
      expect(JSON.parse(readFileSync(rootsFile(), 'utf8'))).toEqual(before);
      expect((await pinnedSigningRoots(dir))!.digest).toBe(signingRootsDigest(before));
    }
    expect(lines.filter((l) => l.security === true && l.event === 'agent.signing_roots_mismatch')).toHaveLength(2);
  });

  it('pins the served roots when their digest is the signed one, and then adopts the state', async () => {
    const result = await pollDesiredState(ctx(), { manifestVersion: 0 }, 0);
    expect(result.kind).toBe('changed');
    const served = (await h.admin('GET', '/api/v1/signing/roots')).body as FleetSigningRoots;
    expect(JSON.parse(readFileSync(rootsFile(), 'utf8'))).toEqual(served);
    expect(served.signingCas[1]).toBe(before.signingCas[0]);
    expect(pinned.digest).toBe(signingRootsDigest(served));
    expect(pinned.compiled.certificateAuthorities).toHaveLength(2);
  });

  it('changes nothing for a statement without the claim (an older control plane)', async () => {
    const kept = h.cp.desiredState.signingRootsDigest;
    h.cp.desiredState.useSigningRootsDigest(undefined);
    try {
      let asked = 0;
      const c = { ...ctx(), followSigningRoots: async () => void asked++, signingRootsDigest: () => 'sha256:' + '0'.repeat(64) };
      const result = await pollDesiredState(c, { manifestVersion: 0 }, 0);
      expect(result.kind).toBe('changed');
      expect(asked).toBe(0);
    } finally {
      h.cp.desiredState.useSigningRootsDigest(kept);
    }
  });
});
