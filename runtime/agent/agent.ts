import { EventEmitter } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { serveMetrics, type MetricsListener } from '../../common/metrics-listener.js';
import { HttpGateway } from '../gateway/gateway.js';
import type { Engine } from '../engine/engine.js';
import { Runtime } from '../runtime.js';
import { AdoptedStateStore, type AdoptedState } from './adopted-state.js';
import { AgentTasks } from './agent-tasks.js';
import { artifactSource } from './artifact-source.js';
import { ArtifactStore } from './artifact-store.js';
import { Backoff, pause, type BackoffSettings } from './backoff.js';
import { currentRefusals, withRefusals, type RefusedDigests } from './boot-check.js';
import { describeDevice, reportCapabilities } from './capabilities.js';
import { DEFAULT_AGENT_METRICS_PORT, type AgentConfig } from './config.js';
import { deviceEngineOf, selectDeviceEngine } from './engine.js';
import { ControlPlaneClient } from './control-plane-client.js';
import { planFromDocument, type DeploymentPlan } from './deployment-plan.js';
import type { FollowerContext } from './desired-state-follower.js';
import { loadIdentity, type DeviceIdentity } from './identity-files.js';
import { checkBinding } from './node-lock.js';
import { identityDir, onboard } from './onboarding.js';
import { channelTrustSource, type TrustSource } from './trust-source.js';
import { ensureTufRoot, tufTrustSource, type TufTrustOptions } from './tuf-trust.js';
import { controlPlaneIdentityCheck } from './control-plane-identity.js';
import { lastKnownGoodOf } from './last-known-good.js';
import { AgentMetrics } from './metrics.js';
import { Reconciler, type DeploymentChange } from './reconciler.js';
import { RenewalScheduler } from './renewal.js';
import { statusReportOf } from './status-report.js';
import { StatusQueue } from './status-queue.js';
import { runSync } from './sync-loop.js';
import { DeviceTrustState } from './trust-state.js';

export interface AgentEvents {
  /** Apps brought back from disk before any network contact. */
  restored: [{ manifestVersion: number; apps: number; failed: number }];
  onboarded: [{ deviceId: string }];
  adopted: [{ manifestVersion: number; deployments: number }];
  /** A desired state refused (signature, binding, version, digest). */
  refused: [{ code: string; message: string }];
  change: [DeploymentChange];
  capabilities: [{ status: number }];
  /** A renewal is complete: from now on every token, request and check uses the new identity. */
  renewed: [{ notAfter: Date }];
}

export interface RunningAgent {
  deviceId: string;
  /** The port the device's HTTP gateway listens on (undefined when disabled). */
  gatewayPort: number | undefined;
  events: EventEmitter<AgentEvents>;
  runtime: Runtime;
  /** Why the apps do not run on Wasmtime, when `auto` fell back to jco (the engine is `runtime.engine`). */
  engineFallback: string | undefined;
  reconciler: Reconciler;
  /** The agent's metrics (docs/metrics.md), kept whether or not a listener serves them. */
  metrics: AgentMetrics;
  /** `http://host:port/metrics` when `metrics.enabled` (port 0 in the config: the port picked). */
  metricsUrl: string | undefined;
  /** The device's trust state (identity, signer, roots, pinned keys and signing roots). */
  trust: DeviceTrustState;
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
 * keeps its certificate fresh, all in the background until `stop()`. A composition of named
 * parts: the device's trust state (trust-state.ts), the apps (runtime, gateway, reconciler),
 * status reporting, certificate renewal and the background tasks.
 */
export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const logger = options.logger ?? silentLogger;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const selected = await selectDeviceEngine(config, logger);
  const fleetCa = await readProvisionedCa(config);
  const backoff: BackoffSettings = { initialMs: config.sync.backoffInitialSeconds * 1000, maxMs: config.sync.backoffMaxSeconds * 1000 };
  const trust = await DeviceTrustState.open(await deviceIdentity(config, fleetCa, backoff, logger, options.signal), {
    identityDir: identityDir(config.dataDir),
    dataDir: config.dataDir,
    provisionedCa: fleetCa,
  });
  const deviceId = trust.current().identity.deviceId;
  const deviceLog = logger.child({ deviceId });
  const events = new EventEmitter<AgentEvents>();
  const client = new ControlPlaneClient(config.controlPlane.url, () => ({
    identity: trust.current().identity,
    ca: trust.current().roots,
    trustDomain: trust.current().trustDomain,
  }));
  const documents = new AdoptedStateStore(config.dataDir, deviceLog);
  const trustSource = trustSourceOf(config, trust, client, deviceLog);
  const apps = await startApps(config, selected.engine, trust, documents, deviceLog);
  let adopted: AdoptedState | undefined;
  const metrics = new AgentMetrics(
    { apps: () => apps.reconciler.apps(), failures: () => apps.reconciler.failures(), adoptedVersion: () => adopted?.manifestVersion ?? 0 },
    { ...deviceEngineOf(selected.engine), fallback: selected.fallback },
  );
  apps.reconciler.on('artifact', (outcome) => metrics.artifact(outcome));
  const reports = new StatusReports(deviceId, new StatusQueue(config.dataDir, deviceLog), deviceLog);
  await reports.load();
  const metricsListener = await listenForScrapes(config, metrics, apps, deviceLog);
  apps.reconciler.on('change', (c) => {
    events.emit('change', c);
    reports.changed(c);
  });
  const bootCheck = (adopted: AdoptedState) =>
    currentRefusals(followerOf(trust, client, trustSource, documents, deviceLog), adopted, deviceId, config.sync.bootCheckSeconds, deviceLog);
  const restored = await restoreOffline(apps, documents, deviceId, reports, events, deviceLog, bootCheck).catch(async (err: unknown) => {
    await metricsListener?.close();
    throw err;
  });
  adopted = restored.adopted;

  const tasks = new AgentTasks(deviceLog, backoff);
  const renewal = startRenewal(config, trust, trustSource, fleetCa, events, deviceLog);
  tasks.run('trust bundle', () =>
    tasks.retrying('trust bundle refresh', async () => {
      await trustSource.refreshBundle();
      await trust.adoptStoredBundle();
    }),
  );
  tasks.run('capabilities', () =>
    tasks.retrying('capabilities report', async () => {
      const status = await reportCapabilities(client, await describeDevice(deviceId, config, deviceEngineOf(selected.engine)), tasks.signal);
      deviceLog.info({ status }, 'capabilities reported');
      events.emit('capabilities', { status });
    }),
  );
  tasks.run('status', () => reports.run(client, new Backoff(backoff), tasks.signal));
  tasks.run('sync', () =>
    followDesiredState({
      config,
      trust,
      client,
      trustSource,
      tasks,
      apps,
      restored,
      reports,
      events,
      backoff,
      deviceLog,
      metrics,
      onAdopted: (a) => (adopted = a),
    }),
  );
  const usageTimers = [
    everyFewSeconds(config.sync.usageLogSeconds, () => logUsage(apps.reconciler, deviceLog)),
    everyFewSeconds(config.sync.usageReportSeconds, () => apps.reconciler.reportUsage()),
  ];
  deviceLog.info(
    { controlPlane: config.controlPlane.url, gatewayPort: apps.gatewayPort, metrics: metricsListener?.url, adoptedVersion: adopted?.manifestVersion ?? 0 },
    'device agent started',
  );

  return {
    deviceId,
    gatewayPort: apps.gatewayPort,
    events,
    runtime: apps.runtime,
    engineFallback: selected.fallback,
    reconciler: apps.reconciler,
    metrics,
    metricsUrl: metricsListener?.url,
    trust,
    adoptedVersion: () => adopted?.manifestVersion ?? 0,
    async stop() {
      renewal.stop();
      for (const timer of usageTimers) clearInterval(timer);
      await tasks.stop();
      client.close();
      await metricsListener?.close();
      await apps.stop();
      deviceLog.info('device agent stopped');
    },
  };
}

interface SyncParts {
  config: AgentConfig;
  trust: DeviceTrustState;
  client: ControlPlaneClient;
  trustSource: TrustSource;
  tasks: AgentTasks;
  apps: Apps;
  restored: { store: AdoptedStateStore; adopted: AdoptedState | undefined; plans: DeploymentPlan[] };
  reports: StatusReports;
  events: EventEmitter<AgentEvents>;
  backoff: BackoffSettings;
  deviceLog: Logger;
  metrics: AgentMetrics;
  onAdopted: (adopted: AdoptedState) => void;
}

/** How the device reads and checks desired state with its current trust state. */
function followerOf(
  trust: DeviceTrustState,
  client: ControlPlaneClient,
  source: TrustSource,
  documents: AdoptedStateStore,
  deviceLog: Logger,
): FollowerContext {
  const pinned = () => [...(trust.current().desiredStateKeys ?? [])];
  return {
    client,
    identity: () => trust.current().identity,
    keys: pinned,
    followKeyRotation: async () => trust.adoptDesiredStateKeys(await source.followKeyRotation(pinned())),
    signingRootsDigest: () => trust.current().signingRoots?.digest,
    followSigningRoots: async (signed) => trust.adoptSigningRoots(await source.followSigningRoots(signed)),
    documents,
    logger: deviceLog,
  };
}

/** Pins what the device needs to trust desired state, then follows it until the agent stops. */
async function followDesiredState(p: SyncParts): Promise<void> {
  const { config, trust, client, trustSource, tasks, apps, restored, reports, events, deviceLog } = p;
  await pinTrust(trust, trustSource, tasks, config, deviceLog);
  // Only a source with something to look at between needs (TUF) is looked at; pinTrust just did.
  const trustCheck =
    trustSource.refresh &&
    afterEveryFewSeconds(
      config.sync.trustCheckSeconds,
      async () => {
        const keys = await trustSource.refresh!(trust.current().desiredStateKeys ?? []);
        if (keys) trust.adoptDesiredStateKeys(keys);
      },
      (err) => deviceLog.warn({ err: errorMessage(err) }, 'could not check the TUF repository; will look again'),
    );
  if (tasks.signal.aborted) return;
  await runSync(
    {
      follower: followerOf(trust, client, trustSource, restored.store, deviceLog),
      store: restored.store,
      reconciler: apps.reconciler,
      source: artifactSource(config, () => {
        const now = trust.current();
        return {
          ca: now.roots,
          key: now.identity.keyPem,
          cert: now.identity.certificatePem,
          checkServerIdentity: controlPlaneIdentityCheck(now.trustDomain, now.roots),
        };
      }),
      deviceId: () => trust.current().identity.deviceId,
      longPollSeconds: config.sync.longPollSeconds,
      pollIntervalMs: config.sync.pollIntervalSeconds * 1000,
      backoff: p.backoff,
      logger: deviceLog,
      onApplying: (v) => (reports.version = v),
      onAdopted: (a) => {
        p.onAdopted(a);
        deviceLog.info(
          {
            manifestVersion: a.manifestVersion,
            deployments: a.deployments.length,
            running: apps.reconciler.apps().length,
            failed: apps.reconciler.failures().size,
          },
          'desired state adopted',
        );
        events.emit('adopted', { manifestVersion: a.manifestVersion, deployments: a.deployments.length });
      },
      onRefused: (code, message) => {
        p.metrics.refused(code);
        events.emit('refused', { code, message });
      },
      onRound: (result) => {
        p.metrics.round(result);
        trustCheck?.();
      },
    },
    { adopted: restored.adopted, plans: restored.plans },
    tasks.signal,
  );
}

/**
 * The loopback (unless allowed otherwise) /metrics listener, when enabled. A port the config names
 * must be had (the apps are stopped again if not); the default port may be held by another agent
 * on the host, which costs this one its metrics, not its apps.
 */
async function listenForScrapes(config: AgentConfig, metrics: AgentMetrics, apps: Apps, logger: Logger): Promise<MetricsListener | undefined> {
  const { enabled, host } = config.metrics;
  if (!enabled) return undefined;
  const port = config.metrics.port ?? DEFAULT_AGENT_METRICS_PORT;
  try {
    return await serveMetrics(metrics.registry, host, port);
  } catch (err) {
    if (config.metrics.port === undefined && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      logger.warn(
        { host, port },
        `metrics not served: the default port ${host}:${port} is in use (another agent on this host?); set metrics.port to serve them, or metrics.enabled: false to say so`,
      );
      return undefined;
    }
    await apps.stop();
    throw new BerthError('agent.metrics', `the metrics listener cannot listen on ${host}:${port}: ${errorMessage(err)}`);
  }
}

async function readProvisionedCa(config: AgentConfig): Promise<string> {
  try {
    return await readFile(config.controlPlane.ca, 'utf8');
  } catch (err) {
    throw new BerthError('agent.bad_config', `controlPlane.ca: cannot read ${config.controlPlane.ca}: ${(err as Error).message}`);
  }
}

/** The identity on disk (checked against this machine), else a new one from onboarding. */
async function deviceIdentity(config: AgentConfig, fleetCa: string, backoff: BackoffSettings, logger: Logger, signal?: AbortSignal): Promise<DeviceIdentity> {
  const identity = await loadIdentity(identityDir(config.dataDir));
  if (!identity) return onboardWithRetry(config, fleetCa, backoff, logger, signal);
  await checkBinding(config.dataDir, config.nodeLock.machineIdFile, identity, logger);
  return identity;
}

/** The apps: runtime (whose tokens are signed with the current trust state), gateway, reconciler. */
interface Apps {
  runtime: Runtime;
  gateway: HttpGateway | undefined;
  gatewayPort: number | undefined;
  reconciler: Reconciler;
  stop(): Promise<void>;
}

async function startApps(config: AgentConfig, engine: Engine, trust: DeviceTrustState, documents: AdoptedStateStore, deviceLog: Logger): Promise<Apps> {
  // The signer is read from the trust state at each token: after a renewal, the new key at once.
  const runtime = new Runtime({
    engine,
    dataDir: join(config.dataDir, 'runtime'),
    logger: deviceLog,
    warmWorkers: config.runtime.warmWorkers,
    workloadSigner: () => trust.current().signer,
  });
  const gateway = config.gateway.enabled ? new HttpGateway({ host: config.gateway.host, port: config.gateway.port, logger: deviceLog }) : undefined;
  let gatewayPort: number | undefined;
  try {
    gatewayPort = await gateway?.listen();
  } catch (err) {
    await runtime.close();
    throw new BerthError('agent.gateway', `the device gateway cannot listen on ${config.gateway.host}:${config.gateway.port}: ${errorMessage(err)}`);
  }
  const lastKnownGood = await lastKnownGoodOf(config, documents, trust.current().identity.deviceId, deviceLog);
  const reconciler = new Reconciler(
    runtime,
    gateway,
    new ArtifactStore(config.dataDir, deviceLog),
    deviceLog,
    () => trust.current().signingRoots?.compiled,
    config.artifacts.retainUnused,
    config.runtime.removedAppDataDays * 86_400_000,
    lastKnownGood,
  );
  return {
    runtime,
    gateway,
    gatewayPort,
    reconciler,
    async stop() {
      await reconciler.stopAll();
      await gateway?.close();
      await runtime.close();
    },
  };
}

/** Status reports of app changes, queued oldest first, for the manifest version being applied. */
class StatusReports {
  /** 0 until a desired state was adopted or is being applied: nothing to report against before. */
  version = 0;

  constructor(
    private readonly deviceId: string,
    private readonly queue: StatusQueue,
    private readonly logger: Logger,
  ) {}

  load(): Promise<void> {
    return this.queue.load();
  }

  changed(c: DeploymentChange): void {
    if (this.version === 0) return;
    void this.queue
      .enqueue(statusReportOf(c, this.deviceId, this.version), c.document)
      .catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, 'could not queue a status report'));
  }

  run(client: ControlPlaneClient, backoff: Backoff, signal: AbortSignal): Promise<void> {
    return this.queue.run(client, backoff, signal);
  }
}

/**
 * Offline first: the last adopted state runs from disk, after at most one bounded look at what
 * the current desired state refuses (boot-check.ts), whatever the network does.
 */
async function restoreOffline(
  apps: Apps,
  store: AdoptedStateStore,
  deviceId: string,
  reports: StatusReports,
  events: EventEmitter<AgentEvents>,
  deviceLog: Logger,
  bootCheck: (adopted: AdoptedState) => Promise<RefusedDigests | undefined>,
): Promise<{ store: AdoptedStateStore; adopted: AdoptedState | undefined; plans: DeploymentPlan[] }> {
  const { reconciler } = apps;
  let adopted: AdoptedState | undefined;
  let plans: DeploymentPlan[] = [];
  try {
    adopted = await store.load(deviceId);
    if (adopted) {
      // Changes while the restored apps start are reported against the adopted version.
      reports.version = adopted.manifestVersion;
      plans = withRefusals(await restorePlans(store, adopted, deviceId, deviceLog), await bootCheck(adopted));
      await reconciler.apply(plans, undefined);
      events.emit('restored', { manifestVersion: adopted.manifestVersion, apps: reconciler.apps().length, failed: reconciler.failures().size });
      deviceLog.info(
        { manifestVersion: adopted.manifestVersion, apps: reconciler.apps().length, failed: reconciler.failures().size },
        'adopted state restored from disk',
      );
    }
  } catch (err) {
    await apps.gateway?.close();
    await apps.runtime.close();
    throw err;
  }
  // A device that adopts nothing new for weeks still gives back removed apps' disk at each start.
  // Only with every adopted deployment read back: one whose document is missing names an app
  // that must not start its countdown; with no adopted state nothing is known to be unplanned.
  if (adopted && plans.length === adopted.deployments.length) await reconciler.pruneAppData(plans);
  else if (adopted)
    deviceLog.warn(
      { restored: plans.length, adopted: adopted.deployments.length },
      "not every adopted deployment could be read back; removed apps' data is left for the next adopted state",
    );
  return { store, adopted, plans };
}

/**
 * Keeps the certificate fresh. A renewal is done only once the trust state has switched to the
 * new identity (key, certificate, signer, bundle together); `renewed` is emitted after that.
 */
function startRenewal(
  config: AgentConfig,
  trust: DeviceTrustState,
  source: TrustSource,
  fleetCa: string,
  events: EventEmitter<AgentEvents>,
  deviceLog: Logger,
): RenewalScheduler {
  const renewal = new RenewalScheduler(trust.current().identity, {
    url: config.controlPlane.url,
    ca: fleetCa,
    dir: identityDir(config.dataDir),
    logger: deviceLog,
    refreshBundle: () => source.refreshBundle(),
    fraction: config.sync.renewalFraction,
    reenroll: () => reenroll(config, trust.current().identity, fleetCa, deviceLog),
    onRenewed: async (renewed) => {
      await trust.adoptIdentity(renewed);
      events.emit('renewed', { notAfter: renewed.notAfter });
    },
  });
  renewal.start();
  return renewal;
}

/**
 * A device offline past its certificate's lifetime: its factory identity (IEEE 802.1AR) is what
 * re-enrolls it; a token was spent at onboarding, so an operator must issue a new one.
 */
async function reenroll(config: AgentConfig, current: DeviceIdentity, fleetCa: string, deviceLog: Logger): Promise<DeviceIdentity> {
  if (config.onboarding?.credential?.kind !== 'factory-certificate') {
    throw new BerthError(
      'agent.certificate_expired',
      `the device certificate expired at ${current.notAfter.toISOString()} and cannot be renewed; onboard the device again with a new enrollment token, or configure its factory certificate so it re-enrolls by itself`,
    );
  }
  deviceLog.warn({ notAfter: current.notAfter.toISOString() }, 'device certificate expired; re-enrolling with the factory certificate');
  const reenrolled = await onboard(config, fleetCa, deviceLog);
  if (reenrolled.deviceId !== current.deviceId) {
    securityEvent(deviceLog, 'agent.reenrolled_as_other_device', { deviceId: current.deviceId, answered: reenrolled.deviceId });
    throw new BerthError(
      'agent.reenrolled_as_other_device',
      `re-enrolling device '${current.deviceId}' returned the identity of '${reenrolled.deviceId}'; restart the agent to run as that device`,
    );
  }
  return reenrolled;
}

/** Desired-state keys and fleet signing roots are pinned once, before the first desired state is followed. */
async function pinTrust(trust: DeviceTrustState, source: TrustSource, tasks: AgentTasks, config: AgentConfig, deviceLog: Logger): Promise<void> {
  if (config.tuf) await tasks.retrying('pinning the TUF root', () => ensureTufRoot(tufOptions(config, trust, deviceLog)));
  if (!trust.current().desiredStateKeys) await tasks.retrying('pinning desired-state keys', async () => trust.adoptDesiredStateKeys(await source.pinKeys()));
  if (!trust.current().signingRoots) await tasks.retrying('pinning fleet signing roots', async () => trust.adoptSigningRoots(await source.pinSigningRoots()));
}

/** The fleet's TUF repository when the device is configured with its root (docs/tuf.md), else the channel's rules. */
function trustSourceOf(config: AgentConfig, trust: DeviceTrustState, client: ControlPlaneClient, deviceLog: Logger): TrustSource {
  if (config.tuf) return tufTrustSource(tufOptions(config, trust, deviceLog));
  const tls = () => ({ ca: trust.current().roots, trustDomain: trust.current().trustDomain });
  return channelTrustSource(client, config.dataDir, { url: config.controlPlane.url, dir: identityDir(config.dataDir), tls }, deviceLog);
}

function tufOptions(config: AgentConfig, trust: DeviceTrustState, deviceLog: Logger): TufTrustOptions {
  return {
    url: config.controlPlane.url,
    dataDir: config.dataDir,
    rootSha256: config.tuf!.rootSha256,
    tls: () => ({ ca: trust.current().roots, cert: trust.current().identity.certificatePem, key: trust.current().identity.keyPem }),
    logger: deviceLog,
  };
}

/**
 * `work` when called, unless it ran (or the function was made) less than `seconds` ago, or still
 * runs; its failures go to `failed`, never thrown.
 */
function afterEveryFewSeconds(seconds: number, work: () => Promise<void>, failed: (err: unknown) => void): () => void {
  let last = Date.now();
  let running = false;
  return () => {
    if (running || Date.now() - last < seconds * 1000) return;
    running = true;
    last = Date.now();
    work()
      .catch(failed)
      .finally(() => (running = false));
  };
}

/** Every `seconds` (0: never), the apps' usage: logged, and reported to the control plane. */
function everyFewSeconds(seconds: number, work: () => void): NodeJS.Timeout | undefined {
  return seconds > 0 ? setInterval(work, seconds * 1000).unref() : undefined;
}

function logUsage(reconciler: Reconciler, deviceLog: Logger): void {
  for (const a of reconciler.apps())
    deviceLog.info(
      { deploymentId: a.deploymentId, vendor: a.plan.vendor, app: a.plan.app, state: a.supervisor.status().state, usage: a.supervisor.usage() },
      'app usage',
    );
}

async function onboardWithRetry(
  config: AgentConfig,
  fleetCa: string,
  settings: BackoffSettings,
  logger: Logger,
  signal?: AbortSignal,
): Promise<DeviceIdentity> {
  const backoff = new Backoff(settings);
  for (;;) {
    try {
      return await onboard(config, fleetCa, logger);
    } catch (err) {
      const status = err instanceof BerthError ? Number(err.details?.status) : NaN;
      // Refusals (bad token, duplicate id, denied) will not change by asking again.
      if (
        (status >= 400 && status < 500 && status !== 408 && status !== 429) ||
        (err instanceof BerthError && err.code.startsWith('agent.') && err.code !== 'agent.timeout')
      )
        throw err;
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
