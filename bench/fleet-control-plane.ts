import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger.js';
import { createOperatorToken } from '../orchestrator/admin/tokens.js';
import { startControlPlane } from '../orchestrator/control-plane.js';
import type { Queryable, Store } from '../orchestrator/store/store.js';
import { rescheduleDeployment } from '../orchestrator/scheduling/scheduler.js';
import * as catalog from '../orchestrator/store/catalog.js';
import * as certificates from '../orchestrator/store/certificates.js';
import * as deployments from '../orchestrator/store/deployments.js';
import * as devices from '../orchestrator/store/devices.js';
import { issueDeviceCertificate } from '../trust/authority.js';
import { certificateToPem, fingerprintOf, generateP256, privateKeyToPem } from '../trust/x509.js';

/**
 * The fleet benchmark's control plane, in its own process so its CPU time and peak memory are
 * its own. Driven over IPC by bench/fleet.ts: provision N devices (each its own key and
 * certificate, written straight to the store: onboarding is measured by the pki bench), then
 * create one deployment on every device when told. The advisory bench admits two versions and
 * files its advisory through the operator API with the admin token sent back on provisioning.
 */
type Message =
  | { kind: 'provision'; devices: number; versions?: string[] }
  | { kind: 'deploy'; version?: string }
  | { kind: 'stats'; resetQueryStats?: boolean }
  | { kind: 'statuses' }
  | { kind: 'stop' };

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-fleet-'));
const storeUrl = process.env.BERTH_FLEET_STORE_URL;
const cp = await startControlPlane({
  dataDir: join(dir, 'cp'),
  trustDomain: 'fleet.bench',
  logger: silentLogger,
  adminSocket: false,
  authorityRefreshMs: 0,
  ...(storeUrl ? { storeUrl } : {}),
});
const send = (m: unknown) => process.send!(m);

// BERTH_FLEET_QUERY_STATS=1: count and time every store query by its SQL (printed at stop), to
// see where the store's time goes.
const queryStats = new Map<string, { n: number; ms: number }>();
if (process.env.BERTH_FLEET_QUERY_STATS) {
  const timed = (q: Queryable): Queryable => ({
    async query<Row extends object>(sql: string, params?: readonly unknown[]) {
      const t = performance.now();
      try {
        return await q.query<Row>(sql, params);
      } finally {
        const key = sql.replace(/\s+/g, ' ').slice(0, 110);
        const s = queryStats.get(key) ?? { n: 0, ms: 0 };
        s.n += 1;
        s.ms += performance.now() - t;
        queryStats.set(key, s);
      }
    },
  });
  const store = cp.deps.store as { -readonly [K in keyof Store]: Store[K] };
  const query = timed({ query: store.query.bind(store) });
  const transaction = store.transaction.bind(store);
  store.query = query.query;
  store.transaction = (work) => transaction((tx) => work(timed(tx)));
}

/** A distinct, made-up artifact digest per version. */
const digestOf = (version: string) => `sha256:${createHash('sha256').update(`meter@${version}`).digest('hex')}` as const;

async function provision(n: number, versions: readonly string[]): Promise<void> {
  const store = cp.deps.store;
  const issuer = cp.deps.authority.issuer();
  await store.transaction(async (tx) => {
    await catalog.insertVendor(tx, 'acme', {});
    await catalog.insertApp(tx, { id: 'meter', vendor: 'acme', description: 'fleet bench' });
    for (const version of versions)
      await catalog.insertVersion(tx, {
        appId: 'meter',
        version,
        component: { repository: 'oci://registry.bench/acme/meter', digest: digestOf(version), sizeBytes: 65536 },
        imports: [],
        verification: null,
      });
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
          JSON.stringify({
            properties: { id: d.id, vendor: 'acme', modelNumber: 'm', serialNumber: d.id, cpus: [{ cores: 4, architecture: 'arm64' }], memory: '4Gi' },
            labels: {},
          }),
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
    // Their current (empty) state, rendered as the scheduler would have when they were onboarded.
    await store.transaction((tx) => cp.desiredState.changed(tx, ids));
    send({
      kind: 'devices',
      devices: await Promise.all(
        issued.map(async (d) => ({ id: d.id, keyPem: await privateKeyToPem(d.keys.privateKey), certificatePem: certificateToPem(d.cert) })),
      ),
    });
  }
}

process.on('message', (m: Message) => {
  void (async () => {
    try {
      if (m.kind === 'provision') {
        await provision(m.devices, m.versions ?? ['1.0.0']);
        const admin = await createOperatorToken(cp.deps.store, silentLogger, { name: 'bench admin', role: 'admin', by: 'bench' });
        send({ kind: 'provisioned', url: cp.url, ca: cp.deps.authority.roots().map((r) => r.toString('pem')), adminToken: admin.token });
      } else if (m.kind === 'deploy') {
        queryStats.clear();
        const cpuBefore = process.cpuUsage();
        const createdAt = Date.now();
        // What admission does once the artifact is verified (registry and signature checks are the
        // supply-chain bench's): store the deployment, place it and render every device's state in
        // one transaction.
        const placement = await cp.deps.store.transaction(async (tx) => {
          const record = {
            id: 'meter-everywhere',
            appId: 'meter',
            version: m.version ?? '1.0.0',
            grants: {},
            tier: 'worker' as const,
            limits: null,
            parameters: null,
            placement: { mode: { kind: 'every' as const } },
            createdBy: 'bench',
            batchSize: 1,
          };
          await deployments.insertDeployment(tx, record);
          const stored = await deployments.getDeployment(tx, record.id);
          return rescheduleDeployment(tx, stored!, cp.deps.desiredStateChanged!);
        });
        send({ kind: 'deployed', createdAt, committedAt: Date.now(), placed: placement.added.length, cpuBefore });
      } else if (m.kind === 'statuses') {
        // Every device's last report on the deployment, counted by what it says (untimed, after the run).
        const rows = await cp.deps.store.query<{ version: string; state: string; code: string | null; devices: number }>(
          `SELECT version, state, error->>'code' AS code, count(*)::int AS devices FROM deployment_device_status
           WHERE deployment_id = 'meter-everywhere' GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
        );
        send({ kind: 'statuses', rows });
      } else if (m.kind === 'stats') {
        if (m.resetQueryStats) queryStats.clear();
        send({ kind: 'stats', waiting: cp.desiredState.waiting, cpu: process.cpuUsage(), maxRssKiB: process.resourceUsage().maxRSS });
      } else if (m.kind === 'stop') {
        for (const [sql, st] of [...queryStats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
          process.stderr.write(`${String(st.n).padStart(7)} ${st.ms.toFixed(0).padStart(7)} ms  ${sql}\n`);
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
