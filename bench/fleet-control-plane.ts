import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger.js';
import { startControlPlane } from '../orchestrator/control-plane.js';
import { createDeployment } from '../orchestrator/deployments/admission.js';
import { deploymentBody } from '../orchestrator/deployments/schema.js';
import * as catalog from '../orchestrator/store/catalog.js';
import * as certificates from '../orchestrator/store/certificates.js';
import * as devices from '../orchestrator/store/devices.js';
import { issueDeviceCertificate } from '../trust/authority.js';
import { certificateToPem, fingerprintOf, generateP256, privateKeyToPem } from '../trust/x509.js';

/**
 * The fleet benchmark's control plane, in its own process so its CPU time and peak memory are
 * its own. Driven over IPC by bench/fleet.ts: provision N devices (each its own key and
 * certificate, written straight to the store: onboarding is measured by the pki bench), then
 * create one deployment on every device when told.
 */
type Message = { kind: 'provision'; devices: number } | { kind: 'deploy' } | { kind: 'stats' } | { kind: 'stop' };

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-fleet-'));
const cp = await startControlPlane({ dataDir: join(dir, 'cp'), trustDomain: 'fleet.bench', logger: silentLogger, adminSocket: false, authorityRefreshMs: 0 });
const send = (m: unknown) => process.send!(m);

async function provision(n: number): Promise<void> {
  const store = cp.deps.store;
  const issuer = cp.deps.authority.issuer();
  await store.transaction(async (tx) => {
    await catalog.insertVendor(tx, 'acme', {});
    await catalog.insertApp(tx, { id: 'meter', vendor: 'acme', description: 'fleet bench' });
    await catalog.insertVersion(tx, { appId: 'meter', version: '1.0.0', component: { repository: 'oci://registry.bench/acme/meter', digest: `sha256:${'7'.repeat(64)}`, sizeBytes: 65536 }, imports: [] });
  });
  const batch = 250;
  for (let start = 0; start < n; start += batch) {
    const ids = Array.from({ length: Math.min(batch, n - start) }, (_, i) => `dev-${String(start + i).padStart(6, '0')}`);
    const issued = await Promise.all(
      ids.map(async (id) => {
        const keys = await generateP256();
        const cert = await issueDeviceCertificate(issuer, cp.deps.authority.trustDomain, id, keys.publicKey, { lifetimeMs: 86_400_000 });
        const spki = Buffer.from(cert.publicKey.rawData);
        return { id, keys, cert, publicKeySha256: createHash('sha256').update(spki).digest('hex') };
      }),
    );
    await store.transaction(async (tx) => {
      for (const d of issued) {
        await devices.insertDevice(tx, { id: d.id, status: 'active', labels: {}, method: 'bench' });
        await tx.query('INSERT INTO device_capabilities (device_id, manifest) VALUES ($1, $2::jsonb)', [
          d.id,
          JSON.stringify({ properties: { id: d.id, vendor: 'acme', modelNumber: 'm', serialNumber: d.id, cpus: [{ cores: 4, architecture: 'arm64' }], memory: '4Gi' }, labels: {} }),
        ]);
        await certificates.insertCertificate(tx, {
          fingerprint: fingerprintOf(d.cert),
          deviceId: d.id,
          serial: d.cert.serialNumber,
          publicKeySha256: d.publicKeySha256,
          issuerFingerprint: fingerprintOf(issuer.certificate),
          certificatePem: certificateToPem(d.cert),
          notBefore: d.cert.notBefore,
          notAfter: d.cert.notAfter,
        });
      }
    });
    send({ kind: 'devices', devices: await Promise.all(issued.map(async (d) => ({ id: d.id, keyPem: await privateKeyToPem(d.keys.privateKey), certificatePem: certificateToPem(d.cert) }))) });
  }
}

process.on('message', (m: Message) => {
  void (async () => {
    try {
      if (m.kind === 'provision') {
        await provision(m.devices);
        send({ kind: 'provisioned', url: cp.url, ca: cp.deps.authority.roots().map((r) => r.toString('pem')) });
      } else if (m.kind === 'deploy') {
        const cpuBefore = process.cpuUsage();
        const createdAt = Date.now();
        const body = deploymentBody.parse({ id: 'meter-everywhere', app: 'meter', version: '1.0.0', grants: {} });
        const { placement } = await createDeployment(cp.deps.store, body, 'bench', cp.deps.desiredStateChanged!);
        send({ kind: 'deployed', createdAt, committedAt: Date.now(), placed: placement.added.length, cpuBefore });
      } else if (m.kind === 'stats') {
        send({ kind: 'stats', waiting: cp.desiredState.waiting, cpu: process.cpuUsage(), maxRssKiB: process.resourceUsage().maxRSS });
      } else if (m.kind === 'stop') {
        await cp.close();
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      }
    } catch (err) {
      send({ kind: 'error', message: err instanceof Error ? err.stack : String(err) });
    }
  })();
});
send({ kind: 'ready' });
