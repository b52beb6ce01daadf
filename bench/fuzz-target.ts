import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { createLogger } from '../common/logger.js';
import { startRegistryServer } from '../oci/server/serve.js';
import { createEnrollmentToken, createOperatorToken } from '../orchestrator/admin/tokens.js';
import { startControlPlane } from '../orchestrator/control-plane.js';
import { bodySchemas } from '../orchestrator/http/body.js';
import { rescheduleDeployment } from '../orchestrator/scheduling/scheduler.js';
import * as catalog from '../orchestrator/store/catalog.js';
import * as deployments from '../orchestrator/store/deployments.js';
import { enroll } from '../runtime/agent/enroll.js';
import type { FuzzTargetMessage, FuzzTargetReady, SeededIds } from './fuzz-types.js';

/**
 * The fuzz benchmark's servers, in their own process so a crash is seen as this process
 * ending and every pino line (the control plane's and the registry's, JSON on stdout) can be
 * read by bench/fuzz-run.ts: a real control plane (PGlite, TLS, fleet CA) with the mirror
 * routes, and the embedded OCI registry (`berth registry`, plain HTTP on loopback). It makes a
 * token for every role, enrols a device, and stores a vendor, app, version and a deployment
 * placed on that device, so that ids in paths can also name things that exist.
 */
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-fuzz-'));
const out = pino.destination({ fd: 1, sync: true });
const logger = createLogger({ name: 'berth-orchestrator', level: 'info' }, out);
const registryLogger = createLogger({ name: 'berth-registry', level: 'info' }, out);
const send = (m: unknown, then: () => void = () => {}) => process.send!(m, undefined, {}, then);

const ids: SeededIds = { vendor: 'fuzzco', app: 'fuzzco-meter', version: '1.0.0', deployment: 'fuzzco-meter-all', device: 'fuzz-dev-q7' };

const cp = await startControlPlane({
  dataDir: join(dir, 'cp'),
  trustDomain: 'fuzz.bench',
  logger,
  adminSocket: false,
  authorityRefreshMs: 0,
  reconcileIntervalMs: 0,
});
const registry = await startRegistryServer({ dir: join(dir, 'registry'), logger: registryLogger, maxBlobBytes: 4 * 1024 * 1024 });

async function prepare(): Promise<FuzzTargetReady> {
  const store = cp.deps.store;
  const token = (role: string) => createOperatorToken(store, logger, { name: `fuzz ${role.replace(':', ' ')}`, role, by: 'fuzz' }).then((t) => t.token);
  const ca = cp.deps.authority.roots().map((r) => r.toString('pem'));
  const enrollment = await createEnrollmentToken(store, logger, { ttlSeconds: 3600, by: 'fuzz', deviceId: ids.device });
  const device = await enroll({ url: cp.url, ca, dir: join(dir, 'device'), credential: { kind: 'token', token: enrollment.token } });
  await store.transaction(async (tx) => {
    await catalog.insertVendor(tx, ids.vendor, {});
    await catalog.insertApp(tx, { id: ids.app, vendor: ids.vendor, description: 'fuzz bench' });
    await catalog.insertVersion(tx, {
      appId: ids.app,
      version: ids.version,
      component: { repository: `oci://${registry.host}/${ids.vendor}/meter`, digest: `sha256:${'7'.repeat(64)}`, sizeBytes: 65536 },
      imports: [],
      verification: null,
    });
  });
  await store.transaction(async (tx) => {
    const record = {
      id: ids.deployment,
      appId: ids.app,
      version: ids.version,
      grants: {},
      tier: 'worker' as const,
      limits: null,
      parameters: null,
      placement: { mode: { kind: 'every' as const } },
      createdBy: 'fuzz',
      batchSize: 1,
    };
    await deployments.insertDeployment(tx, record);
    await rescheduleDeployment(tx, (await deployments.getDeployment(tx, record.id))!, cp.deps.desiredStateChanged!);
  });
  return {
    kind: 'ready',
    controlPlaneUrl: cp.url,
    registryUrl: registry.url,
    ca,
    credentials: {
      admin: await token('admin'),
      operator: await token('operator'),
      vendor: await token(`vendor:${ids.vendor}`),
      otherVendor: await token('vendor:othervendor'),
      enrollment: (await createEnrollmentToken(store, logger, { ttlSeconds: 3600, by: 'fuzz' })).token,
      device: { keyPem: device.keyPem, certificatePem: device.certificatePem },
    },
    ids,
    routes: cp.app.routes.map((r) => ({ method: r.method, path: r.path })),
  };
}

/** The JSON Schema of every body schema readJson has seen so far (bench/fuzz-bodies.ts generates from it). */
function schemas(): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const [route, schema] of bodySchemas) {
    try {
      found[route] = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });
    } catch {
      found[route] = {};
    }
  }
  return found;
}

// The fuzzer gone (killed, or failed before telling us to stop): no server outlives it.
process.on('disconnect', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});

process.on('message', (m: FuzzTargetMessage) => {
  void (async () => {
    try {
      if (m.kind === 'schemas') send({ kind: 'schemas', schemas: schemas() });
      else if (m.kind === 'stop') {
        await cp.close();
        await registry.close();
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      }
    } catch (err) {
      send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});
try {
  send(await prepare());
} catch (err) {
  send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
}
