import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { HttpGateway } from '../gateway/gateway.js';
import { workloadIdentityHandlers } from '../identity/token-handlers.js';
import { Runtime } from '../runtime.js';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { AdoptedStateStore, type AdoptedState } from './adopted-state.js';
import { artifactSource } from './artifact-source.js';
import { ArtifactStore } from './artifact-store.js';
import { Backoff, pause, type BackoffSettings } from './backoff.js';
import { describeDevice, reportCapabilities } from './capabilities.js';
import type { AgentConfig } from './config.js';
import { ControlPlaneClient } from './control-plane-client.js';
import { planFromDocument, type DeploymentPlan } from './deployment-plan.js';
import { deviceSigner } from './device-signer.js';
import { loadIdentity, type DeviceIdentity } from './identity-files.js';
import { checkBinding } from './node-lock.js';
import { followKeyRotation, followSigningRoots, identityDir, onboard, pinKeys, pinnedKeys, pinnedSigningRoots, pinSigningRoots } from './onboarding.js';
import { Reconciler, type DeploymentChange } from './reconciler.js';
import { RenewalScheduler } from './renewal.js';
import { statusReportOf } from './status-report.js';
import { StatusQueue } from './status-queue.js';
import { runSync } from './sync-loop.js';
import { bundleRootsPem, refreshTrustBundle } from './trust-bundle.js';
import type { JWK } from 'jose';

export interface AgentEvents {
  /** Apps brought back from disk before any network contact. */
  restored: [{ manifestVersion: number; apps: number; failed: number }];
  onboarded: [{ deviceId: string }];
  adopted: [{ manifestVersion: number; deployments: number }];
  /** A desired state refused (signature, binding, version, digest). */
  refused: [{ code: string; message: string }];
  change: [DeploymentChange];
  capabilities: [{ status: number }];
}

export interface RunningAgent {
  deviceId: string;
  /** The port the device's HTTP gateway listens on (undefined when disabled). */
  gatewayPort: number | undefined;
  events: EventEmitter<AgentEvents>;
  runtime: Runtime;
  reconciler: Reconciler;
  adoptedVersion(): number;
  stop(): Promise<void>;
}

export interface StartAgentOptions {
  logger?: Logger;
  /** Abandons onboarding retries (the agent is not running yet, so `stop` is not available). */
  signal?: AbortSignal;
}

/**
 * The device agent (docs/agent.md): onboards if it must, brings back the last adopted apps from
 * disk at once, then follows the signed desired state, reports status and capabilities, and
 * keeps its certificate fresh, all in the background until `stop()`.
 */
export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const logger = options.logger ?? silentLogger;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let fleetCa: string;
  try {
    fleetCa = await readFile(config.controlPlane.ca, 'utf8');
  } catch (err) {
    throw new BerthError('agent.bad_config', `controlPlane.ca: cannot read ${config.controlPlane.ca}: ${(err as Error).message}`);
  }
  const backoffSettings: BackoffSettings = { initialMs: config.sync.backoffInitialSeconds * 1000, maxMs: config.sync.backoffMaxSeconds * 1000 };
  const idDir = identityDir(config.dataDir);

  let identity = await loadIdentity(idDir);
  if (identity) await checkBinding(config.dataDir, config.nodeLock.machineIdFile, identity, logger);
  else identity = await onboardWithRetry(config, fleetCa, backoffSettings, logger, options.signal);
  let current: DeviceIdentity = identity;
  let signer: DeviceSigner = await deviceSigner(current);
  let roots: string | string[] = (await bundleRootsPem(idDir)) ?? fleetCa;
  const client = new ControlPlaneClient(config.controlPlane.url, () => ({ identity: current, ca: roots }));
  const deviceLog = logger.child({ deviceId: current.deviceId });
  const events = new EventEmitter<AgentEvents>();

  const runtime = new Runtime({ dataDir: join(config.dataDir, 'runtime'), logger: deviceLog, warmWorkers: config.runtime.warmWorkers, hostHandlers: workloadIdentityHandlers(() => signer) });
  const gateway = config.gateway.enabled ? new HttpGateway({ host: config.gateway.host, port: config.gateway.port, logger: deviceLog }) : undefined;
  let gatewayPort: number | undefined;
  try {
    gatewayPort = await gateway?.listen();
  } catch (err) {
    await runtime.close();
    throw new BerthError('agent.gateway', `the device gateway cannot listen on ${config.gateway.host}:${config.gateway.port}: ${errorMessage(err)}`);
  }
  const store = new AdoptedStateStore(config.dataDir, deviceLog);
  const queue = new StatusQueue(config.dataDir, deviceLog);
  await queue.load();
  let signingRoots = await pinnedSigningRoots(config.dataDir);
  const reconciler = new Reconciler(runtime, gateway, new ArtifactStore(config.dataDir, deviceLog), deviceLog, () => signingRoots?.compiled, config.artifacts.retainUnused, config.runtime.removedAppDataDays * 86_400_000);
  let reportVersion = 0;
  reconciler.on('change', (c) => {
    events.emit('change', c);
    if (reportVersion === 0) return;
    void queue
      .enqueue(statusReportOf(c, current.deviceId, reportVersion), c.document)
      .catch((err: unknown) => deviceLog.error({ err: errorMessage(err) }, 'could not queue a status report'));
  });

  // Offline first: the last adopted state runs from disk before any network contact.
  let adopted: AdoptedState | undefined;
  let plans: DeploymentPlan[] = [];
  try {
    adopted = await store.load(current.deviceId);
    if (adopted) {
      reportVersion = adopted.manifestVersion;
      plans = await restorePlans(store, adopted, current.deviceId, deviceLog);
      await reconciler.apply(plans, undefined);
      events.emit('restored', { manifestVersion: adopted.manifestVersion, apps: reconciler.apps().length, failed: reconciler.failures().size });
      deviceLog.info({ manifestVersion: adopted.manifestVersion, apps: reconciler.apps().length, failed: reconciler.failures().size }, 'adopted state restored from disk');
    }
  } catch (err) {
    await gateway?.close();
    await runtime.close();
    throw err;
  }

  // A device that adopts nothing new for weeks still gives back removed apps' disk at each start.
  // Only with every adopted deployment read back: one whose document is missing names an app
  // that must not start its countdown; with no adopted state nothing is known to be unplanned.
  if (adopted && plans.length === adopted.deployments.length) await reconciler.pruneAppData(plans);
  else if (adopted) deviceLog.warn({ restored: plans.length, adopted: adopted.deployments.length }, 'not every adopted deployment could be read back; removed apps\' data is left for the next adopted state');

  const controller = new AbortController();
  const signal = controller.signal;
  const renewal = new RenewalScheduler(current, {
    url: config.controlPlane.url,
    ca: fleetCa,
    dir: idDir,
    logger: deviceLog,
    fraction: config.sync.renewalFraction,
    // A device offline past its certificate's lifetime: its factory identity (IEEE 802.1AR) is
    // what re-enrolls it; a token was spent at onboarding, so an operator must issue a new one.
    reenroll: async () => {
      if (config.onboarding?.credential?.kind !== 'factory-certificate') {
        throw new BerthError('agent.certificate_expired', `the device certificate expired at ${current.notAfter.toISOString()} and cannot be renewed; onboard the device again with a new enrollment token, or configure its factory certificate so it re-enrolls by itself`);
      }
      deviceLog.warn({ notAfter: current.notAfter.toISOString() }, 'device certificate expired; re-enrolling with the factory certificate');
      const reenrolled = await onboard(config, fleetCa, deviceLog);
      if (reenrolled.deviceId !== current.deviceId) {
        securityEvent(deviceLog, 'agent.reenrolled_as_other_device', { deviceId: current.deviceId, answered: reenrolled.deviceId });
        throw new BerthError('agent.reenrolled_as_other_device', `re-enrolling device '${current.deviceId}' returned the identity of '${reenrolled.deviceId}'; restart the agent to run as that device`);
      }
      return reenrolled;
    },
    onRenewed: (renewed) => {
      current = renewed;
      void deviceSigner(renewed).then((s) => (signer = s));
      void bundleRootsPem(idDir).then((r) => r && (roots = r));
    },
  });
  renewal.start();

  const tasks: Promise<void>[] = [];
  const background = async (name: string, task: () => Promise<void>) => {
    try {
      await task();
    } catch (err) {
      if (!signal.aborted) deviceLog.error({ task: name, code: errorCode(err, 'unexpected'), err: errorMessage(err) }, 'agent task ended');
    }
  };
  const retrying = async (what: string, once: () => Promise<void>) => {
    const backoff = new Backoff(backoffSettings);
    while (!signal.aborted) {
      try {
        return await once();
      } catch (err) {
        const delay = backoff.next(err);
        deviceLog.warn({ task: what, code: errorCode(err, 'network'), err: errorMessage(err), retryInMs: delay }, `${what} failed; will retry`);
        await pause(delay, signal);
      }
    }
  };
  let keys: JWK[] | undefined = await pinnedKeys(config.dataDir);
  tasks.push(
    background('trust bundle', () =>
      retrying('trust bundle refresh', async () => {
        await refreshTrustBundle({ url: config.controlPlane.url, ca: roots, dir: idDir, logger: deviceLog });
        roots = (await bundleRootsPem(idDir)) ?? roots;
      }),
    ),
    background('capabilities', () =>
      retrying('capabilities report', async () => {
        const status = await reportCapabilities(client, await describeDevice(current.deviceId, config), signal);
        deviceLog.info({ status }, 'capabilities reported');
        events.emit('capabilities', { status });
      }),
    ),
    background('status', () => queue.run(client, new Backoff(backoffSettings), signal)),
    background('sync', async () => {
      if (!keys) await retrying('pinning desired-state keys', async () => void (keys = await pinKeys(client, config.dataDir, deviceLog)));
      if (!signingRoots) await retrying('pinning fleet signing roots', async () => void (signingRoots = await pinSigningRoots(client, config.dataDir, deviceLog)));
      if (signal.aborted) return;
      await runSync(
        {
          follower: {
            client,
            identity: () => current,
            keys: () => keys ?? [],
            followKeyRotation: async () => void (keys = await followKeyRotation(client, config.dataDir, keys ?? [], deviceLog)),
            signingRootsDigest: () => signingRoots?.digest,
            // Used from the next component verified on: the reconciler reads `signingRoots` each time.
            followSigningRoots: async (signed) => void (signingRoots = await followSigningRoots(client, config.dataDir, signed, deviceLog)),
            documents: store,
            logger: deviceLog,
          },
          store,
          reconciler,
          source: artifactSource(config, () => ({ ca: roots, key: current.keyPem, cert: current.certificatePem })),
          deviceId: () => current.deviceId,
          longPollSeconds: config.sync.longPollSeconds,
          pollIntervalMs: config.sync.pollIntervalSeconds * 1000,
          backoff: backoffSettings,
          logger: deviceLog,
          onApplying: (v) => (reportVersion = v),
          onAdopted: (a) => {
            adopted = a;
            deviceLog.info({ manifestVersion: a.manifestVersion, deployments: a.deployments.length, running: reconciler.apps().length, failed: reconciler.failures().size }, 'desired state adopted');
            events.emit('adopted', { manifestVersion: a.manifestVersion, deployments: a.deployments.length });
          },
          onRefused: (code, message) => events.emit('refused', { code, message }),
        },
        { adopted, plans },
        signal,
      );
    }),
  );
  const usageTimer =
    config.sync.usageLogSeconds > 0
      ? setInterval(() => {
          for (const a of reconciler.apps()) deviceLog.info({ deploymentId: a.deploymentId, vendor: a.plan.vendor, app: a.plan.app, state: a.supervisor.status().state, usage: a.supervisor.usage() }, 'app usage');
        }, config.sync.usageLogSeconds * 1000).unref()
      : undefined;
  deviceLog.info({ controlPlane: config.controlPlane.url, gatewayPort, adoptedVersion: adopted?.manifestVersion ?? 0 }, 'device agent started');

  return {
    deviceId: current.deviceId,
    gatewayPort,
    events,
    runtime,
    reconciler,
    adoptedVersion: () => adopted?.manifestVersion ?? 0,
    async stop() {
      controller.abort();
      renewal.stop();
      if (usageTimer) clearInterval(usageTimer);
      await Promise.all(tasks);
      client.close();
      await reconciler.stopAll();
      await gateway?.close();
      await runtime.close();
      deviceLog.info('device agent stopped');
    },
  };
}

async function onboardWithRetry(config: AgentConfig, fleetCa: string, settings: BackoffSettings, logger: Logger, signal?: AbortSignal): Promise<DeviceIdentity> {
  const backoff = new Backoff(settings);
  for (;;) {
    try {
      return await onboard(config, fleetCa, logger);
    } catch (err) {
      const status = err instanceof BerthError ? Number(err.details?.status) : NaN;
      // Refusals (bad token, duplicate id, denied) will not change by asking again.
      if ((status >= 400 && status < 500 && status !== 408 && status !== 429) || (err instanceof BerthError && err.code.startsWith('agent.') && err.code !== 'agent.timeout')) throw err;
      if (signal?.aborted) throw err;
      const delay = backoff.next(err);
      logger.warn({ code: errorCode(err, 'network'), err: errorMessage(err), retryInMs: delay }, 'onboarding failed; will retry');
      await pause(delay, signal);
    }
  }
}

/** Plans for the persisted documents; one missing or corrupted document leaves only its deployment out. */
async function restorePlans(store: AdoptedStateStore, adopted: AdoptedState, deviceId: string, logger: Logger): Promise<DeploymentPlan[]> {
  const plans: DeploymentPlan[] = [];
  for (const d of adopted.deployments) {
    const doc = await store.document(d.deploymentId, d.digest);
    if (!doc) {
      logger.error({ deploymentId: d.deploymentId, digest: d.digest }, 'adopted deployment document missing or corrupted; not started');
      continue;
    }
    try {
      plans.push(planFromDocument(doc, deviceId));
    } catch (err) {
      logger.error({ deploymentId: d.deploymentId, err: errorMessage(err) }, 'adopted deployment document unreadable; not started');
    }
  }
  return plans;
}
