import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { startControlPlane, type ControlPlane } from '../../orchestrator/control-plane.js';
import { startRegistryServer, type RunningRegistryServer } from '../../oci/server/serve.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { agentConfigSchema } from '../../runtime/agent/config.js';
import { tufRootFingerprint } from '../../trust/tuf/root.js';
import type { EnrollmentTokenCreated } from '../../wire/tokens.js';
import { operatorClient, type OperatorClient } from './operator-client.js';

/**
 * The servers of a one-machine Berth (the demo and the end-to-end benchmark): an embedded OCI
 * registry and a control plane on PGlite, both on loopback, plus an admin client.
 */
export interface LocalFleet {
  registry: RunningRegistryServer;
  controlPlane: ControlPlane;
  /** Fleet root certificates, PEM, and the file an agent's config names. */
  ca: string[];
  caFile: string;
  adminToken: string;
  admin: OperatorClient;
  /** Set once the fleet's TUF repository has a root (docs/tuf.md): devices started then follow it. */
  tufRootSha256?: string;
  close(): Promise<void>;
}

export async function startLocalFleet(dir: string, trustDomain: string, logger: Logger, controlPlanePort = 0): Promise<LocalFleet> {
  const registry = await startRegistryServer({ dir: join(dir, 'registry'), logger: logger.child({ component: 'registry' }) });
  let controlPlane: ControlPlane;
  try {
    controlPlane = await startControlPlane({
      dataDir: join(dir, 'control-plane'),
      trustDomain,
      host: '127.0.0.1',
      port: controlPlanePort,
      logger: logger.child({ component: 'control-plane' }),
      registries: { [registry.host]: { plainHttp: true } },
    });
  } catch (err) {
    await registry.close();
    throw err;
  }
  const ca = controlPlane.deps.authority.roots().map((r) => r.toString('pem'));
  const caFile = join(dir, 'fleet-ca.pem');
  await writeFile(caFile, ca.join(''));
  const { token: adminToken } = await createOperatorToken(controlPlane.deps.store, logger, { name: 'local admin', role: 'admin', by: 'berth demo' });
  return {
    registry,
    controlPlane,
    ca,
    caFile,
    adminToken,
    admin: operatorClient(controlPlane.url, ca, adminToken),
    async close() {
      await controlPlane.close();
      await registry.close();
    },
  };
}

export interface LocalDevice {
  id: string;
  labels: Record<string, string>;
  dataDir: string;
}

/** The agent config a local device runs with: quick polls and back-off, gateway and metrics on free ports (several devices share the host). */
export function localAgentConfig(
  fleet: Pick<LocalFleet, 'controlPlane' | 'caFile' | 'registry' | 'tufRootSha256'>,
  device: LocalDevice,
  enrollmentToken?: string,
) {
  return agentConfigSchema.parse({
    controlPlane: { url: fleet.controlPlane.url, ca: fleet.caFile },
    dataDir: device.dataDir,
    ...(enrollmentToken ? { onboarding: { credential: { kind: 'token', token: enrollmentToken }, deviceId: device.id } } : {}),
    labels: device.labels,
    gateway: { port: 0 },
    metrics: { port: 0 },
    ...(fleet.tufRootSha256 ? { tuf: { rootSha256: fleet.tufRootSha256 } } : {}),
    artifacts: { source: 'registry', registries: { [fleet.registry.host]: { plainHttp: true } } },
    sync: { longPollSeconds: 20, pollIntervalSeconds: 0.2, backoffInitialSeconds: 0.2, backoffMaxSeconds: 2 },
  });
}

/** Enrolls (with a fresh one-time token bound to the device id) and starts the device's agent. */
export async function startLocalDevice(fleet: LocalFleet, device: LocalDevice, logger: Logger): Promise<RunningAgent> {
  const { token } = await fleet.admin.call<EnrollmentTokenCreated>('POST', '/api/v1/admin/enrollment-tokens', { deviceId: device.id, ttlSeconds: 600 });
  return startAgent(localAgentConfig(fleet, device, token), { logger: logger.child({ component: 'agent', device: device.id }) });
}

/**
 * The fleet's TUF repository (docs/tuf.md) with its root keys in `keyDir`, as `berth tuf init`
 * makes it: once, then found again when the demo runs on the same folder.
 */
export async function publishTufRoot(fleet: LocalFleet, keyDir: string): Promise<string> {
  const existing = await readFile(join(keyDir, '1.root.json')).catch(() => undefined);
  if (existing) return tufRootFingerprint(existing);
  const { initRepository } = await import('../tuf/ceremony.js');
  return (await initRepository((method, path, body) => fleet.admin.call(method, path, body), { keys: 3, threshold: 2, out: keyDir })).rootSha256;
}
