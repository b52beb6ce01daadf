import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../runtime/agent/enroll.js';
import { renew } from '../../runtime/agent/renewal.js';
import { call, startHarness, type Harness } from './harness.js';

let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-dev-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});
let n = 0;
async function onboard(deviceId: string, ca = h.ca) {
  const token = await h.enrollmentToken({ deviceId });
  const dir = join(work, `d${n++}`);
  return { dir, ...(await enroll({ url: h.cp.url, ca, dir, credential: { kind: 'token', token } })) };
}

describe('revocation', () => {
  it('takes effect on the next request over a kept-alive connection', async () => {
    const id = await onboard('keepalive-1');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: h.ca, key: id.keyPem, cert: id.certificatePem });
    try {
      const first = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      expect(first.status).toBe(200);
      const revoked = await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'keepalive-1', reason: 'stolen' });
      expect(revoked.body).toMatchObject({ status: 'revoked', certificatesRevoked: 1 });
      const second = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      // Same TCP connection (same local port, no new handshake), yet refused.
      expect(second.localPort).toBe(first.localPort);
      expect(second.status).toBe(403);
      expect(second.headers['content-type']).toContain('application/problem+json');
      expect(second.body).toMatchObject({ status: 403, code: 'device.revoked', retryable: false });
      expect(h.events('device.revoked').some((e) => e.deviceId === 'keepalive-1' && e.reason === 'stolen')).toBe(true);
      expect(h.events('device.refused_revoked').some((e) => e.deviceId === 'keepalive-1')).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('takes effect on a resumed TLS session', async () => {
    const id = await onboard('resume-1');
    // No keep-alive: every request is a new connection, resumed from the cached session ticket.
    const agent = new Agent({ keepAlive: false, ca: h.ca, key: id.keyPem, cert: id.certificatePem });
    try {
      const first = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      expect(first).toMatchObject({ status: 200, reused: false });
      const second = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      expect(second).toMatchObject({ status: 200, reused: true });
      await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'resume-1' });
      const third = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      expect(third.reused).toBe(true);
      expect(third.status).toBe(403);
      expect(third.body.code).toBe('device.revoked');
    } finally {
      agent.destroy();
    }
  });

  it('reaches a cached connection when the store changes the device by any path (the trigger announces it)', async () => {
    const id = await onboard('by-store-1');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: h.ca, key: id.keyPem, cert: id.certificatePem });
    try {
      expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent })).status).toBe(200);
      const cache = h.cp.deps.deviceAuth!;
      const cached = cache.size;
      expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent })).status).toBe(200);
      expect(cache.size).toBe(cached);
      // Not through the lifecycle code (which also forgets locally): as another replica or an
      // operator's SQL would do it. Only the store's NOTIFY can tell this replica.
      await h.cp.deps.store.query(`UPDATE devices SET status = 'revoked' WHERE id = $1`, ['by-store-1']);
      const deadline = Date.now() + 5000;
      let answer = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      while (answer.status === 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        answer = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, agent });
      }
      expect(answer.body).toMatchObject({ status: 403, code: 'device.revoked' });
    } finally {
      agent.destroy();
    }
  });

  it('refuses renewal and re-onboarding of a revoked device', async () => {
    const id = await onboard('revoked-2');
    await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'revoked-2' });
    await expect(renew(id, { url: h.cp.url, ca: h.ca, dir: id.dir })).rejects.toMatchObject({ code: 'device.revoked' });
    const token = await h.enrollmentToken({ deviceId: 'revoked-2' });
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: join(work, 'x'), credential: { kind: 'token', token } })).rejects.toMatchObject({
      code: 'onboarding.duplicate_id',
    });
  });
});

describe('CA rotation', () => {
  it('rotates with overlap: old devices keep working, the bundle sequence rises, retirement ends the overlap', async () => {
    const oldRoots = h.ca;
    const before = (await call(`${h.cp.url}/api/v1/trust-bundle`, { ca: oldRoots })).body;
    const veteran = await onboard('veteran');
    const laggard = await onboard('laggard');

    // Intermediate-only rotation (root key on disk here; offline roots pass rootKeyPem).
    const mid = await h.admin('POST', '/api/v1/admin/ca/rotations', {});
    expect(mid.status).toBe(201);
    expect(mid.body.sequence).toBe(before.spiffe_sequence + 1);

    const rotated = await h.admin('POST', '/api/v1/admin/ca/rotations', { newRoot: true });
    expect(rotated.status).toBe(201);
    const bundle = (await call(`${h.cp.url}/api/v1/trust-bundle`, { ca: oldRoots })).body;
    expect(bundle.spiffe_sequence).toBe(before.spiffe_sequence + 2);
    expect(bundle.keys).toHaveLength(2);

    // A device that only knows the old root still verifies the server and is still accepted.
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: oldRoots, key: veteran.keyPem, cert: veteran.certificatePem })).status).toBe(200);
    // New devices get certificates from the new chain, and work.
    const newcomer = await onboard('newcomer');
    expect(newcomer.certificatePem).toContain('BEGIN CERTIFICATE');
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: newcomer.keyPem, cert: newcomer.certificatePem })).status).toBe(200);
    // The veteran renews onto the new chain (and fetches the new bundle with it).
    const { storedBundle, bundleRootsPem, refreshTrustBundle } = await import('../../runtime/agent/trust-bundle.js');
    expect((await storedBundle(veteran.dir))?.spiffe_sequence).toBe(before.spiffe_sequence);
    const renewed = await renew(veteran, { url: h.cp.url, ca: oldRoots, dir: veteran.dir });
    expect((await storedBundle(veteran.dir))?.spiffe_sequence).toBe(bundle.spiffe_sequence);
    expect((await bundleRootsPem(veteran.dir))?.sort()).toEqual([...h.ca].sort());

    // End the overlap: retire the old root (its intermediates go with it).
    const oldRootFingerprint = h.cp.deps.authority
      .roots()
      .map((r) => r)
      .find((r) => oldRoots.includes(r.toString('pem')));
    const { fingerprintOf } = await import('../../trust/x509.js');
    const retired = await h.admin('POST', '/api/v1/admin/ca/retirements', { fingerprint: fingerprintOf(oldRootFingerprint!) });
    expect(retired.status).toBe(200);
    expect(retired.body.sequence).toBe(bundle.spiffe_sequence + 1);
    const after = (await call(`${h.cp.url}/api/v1/trust-bundle`, { ca: h.ca })).body;
    expect(after.keys).toHaveLength(1);
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: renewed.keyPem, cert: renewed.certificatePem })).status).toBe(200);
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: newcomer.keyPem, cert: newcomer.certificatePem })).status).toBe(200);
    // The device that never renewed during the overlap is now outside the trust bundle.
    const lagged = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: laggard.keyPem, cert: laggard.certificatePem });
    expect(lagged.status).toBe(401);
    expect(h.events('ca.rotated')).toHaveLength(2);
    // A bundle with a lower sequence than the one stored is a rollback: refused.
    const { writeFileSync, readFileSync } = await import('node:fs');
    const { identityPaths } = await import('../../runtime/agent/identity-files.js');
    const stored = JSON.parse(readFileSync(identityPaths(newcomer.dir).bundle, 'utf8'));
    writeFileSync(identityPaths(newcomer.dir).bundle, JSON.stringify({ ...stored, spiffe_sequence: 1000 }));
    await expect(refreshTrustBundle({ url: h.cp.url, ca: h.ca, dir: newcomer.dir })).rejects.toMatchObject({ code: 'agent.bundle_rollback' });
    expect(h.events('ca.retired')).toHaveLength(1);
  });
});
