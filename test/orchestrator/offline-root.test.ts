import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enroll } from '../../runtime/agent/enroll.js';
import { renew } from '../../runtime/agent/renewal.js';
import { fingerprintOf } from '../../trust/x509.js';
import { suiteTempDir } from '../support/tmp.js';
import { call, startHarness } from './harness.js';

// docs/trust.md: the control plane needs only the issuing intermediate's key; the root's key can
// be moved away after the first start and handed in only for a rotation.
describe('fleet root key kept offline', () => {
  it('starts, onboards and renews with only the intermediate key; a rotation needs the root key handed in, and leaves it off disk', async () => {
    const work = suiteTempDir('offline-root');
    const dataDir = join(work, 'cp');
    const first = await startHarness({ dataDir });
    const rootFile = first.cp.deps.authority.keyPath(fingerprintOf(first.cp.deps.authority.roots()[0]!));
    await first.stop();
    // The operator takes the root key away (to a safe, here to memory).
    const rootKeyPem = readFileSync(rootFile, 'utf8');
    rmSync(rootFile);

    const h = await startHarness({ dataDir });
    try {
      const token = await h.enrollmentToken({ deviceId: 'offline-root-1' });
      const id = await enroll({ url: h.cp.url, ca: h.ca, dir: join(work, 'dev'), credential: { kind: 'token', token } });
      expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem })).status).toBe(200);
      const renewed = await renew(id, { url: h.cp.url, ca: h.ca, dir: join(work, 'dev') });
      expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: renewed.keyPem, cert: renewed.certificatePem })).status).toBe(200);

      // A new intermediate needs the root's signature: refused, naming why, until the key is handed in.
      const refused = await h.admin('POST', '/api/v1/admin/ca/rotations', {});
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'pki.root_key_offline' });
      const rotated = await h.admin('POST', '/api/v1/admin/ca/rotations', { rootKeyPem });
      expect(rotated.status).toBe(201);
      expect(existsSync(rootFile)).toBe(false);
      // Issuing moved to the new intermediate; the device onboarded before still works.
      const later = await enroll({
        url: h.cp.url,
        ca: h.ca,
        dir: join(work, 'dev2'),
        credential: { kind: 'token', token: await h.enrollmentToken({ deviceId: 'offline-root-2' }) },
      });
      for (const d of [renewed, later])
        expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: d.keyPem, cert: d.certificatePem })).status).toBe(200);
    } finally {
      await h.stop();
    }
  }, 60_000);
});
