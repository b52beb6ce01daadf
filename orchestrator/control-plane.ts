import { join } from 'node:path';
import { BerthError, errorMessage } from '../common/errors.js';
import { isLoopbackHost, serveMetrics, type MetricsListener } from '../common/metrics-listener.js';
import { createLogger, withAuditSink, type Logger } from '../common/logger.js';
import { AuditLog } from './audit/audit-log.js';
import { ControlPlaneMetrics } from './metrics/registry.js';
import { writePrivateFile } from '../trust/key-files.js';
import { signingRootsDigest } from '../trust/signing/roots.js';
import { buildControlPlaneApp, coreRoutes, type ControlPlaneDeps, type RouteModule } from './app.js';
import { openArtifactServices } from './control-plane/artifacts.js';
import { desiredStateKeyControl, type DesiredStateKeyControl } from './control-plane/desired-state-key-control.js';
import { FleetSigningState } from './control-plane/fleet-signing-state.js';
import { startReplicaRefresh } from './control-plane/replica-refresh.js';
import { ServerTls } from './control-plane/server-tls.js';
import { StoreAndJobs } from './control-plane/store-and-jobs.js';
import type { Hono } from 'hono';
import type { AppEnv } from './http/env.js';
import type { PlacementSource } from './desired-state/placement.js';
import { DesiredStateService } from './desired-state/service.js';
import { loadOrCreateKeys, type DesiredStateKeys } from './desired-state/signing-key.js';
import { storePlacementSource } from './deployments/placement-source.js';
import { serveAdminSocket } from './http/admin-socket.js';
import { DeviceAuthCache } from './http/device-auth-cache.js';
import type { RateLimit } from './http/rate-limit.js';
import { serveHttps, type RunningServer } from './http/serve.js';
import { checkPublicUrl } from './http/public-url.js';
import { ArtifactMirror } from './mirror/mirror.js';
import { MirrorCollector } from './mirror/gc.js';
import { factoryMethod } from './onboarding/factory-method.js';
import { tokenMethod } from './onboarding/token-method.js';
import { FleetAuthority } from './pki/fleet-authority.js';
import { DEFAULT_REVOCATION_LIST_LIFETIME_MS } from './revocations/publish.js';
import { controlPlaneRoutes } from './routes/index.js';
import { DevicePresence } from './scheduling/presence.js';
import type { Reconciler } from './scheduling/reconcile.js';
import { putSetting } from './store/authorities.js';
import type { Store } from './store/store.js';
import type { RegistryClientOptions } from '../oci/client.js';
import { adminSocketPath } from './admin/socket-path.js';
import { OnlineKeys } from './tuf/online-keys.js';
import { TufRepository } from './tuf/repository.js';
import { fleetTrustDocuments } from './tuf/trust-targets.js';

export interface ControlPlaneOptions {
  /** Data directory: the PGlite store (unless `storeUrl`) and the CA keys. */
  dataDir: string;
  /** PostgreSQL URL; when absent, PGlite in `<dataDir>/store`. */
  storeUrl?: string;
  trustDomain?: string;
  host?: string;
  port?: number;
  /** Names the server certificate carries besides `host`. */
  serverNames?: string[];
  certificateLifetimeMs?: number;
  pendingRetrySeconds?: number;
  /** Turn operator approval of new devices on or off (kept in the store). */
  requireApproval?: boolean;
  logger?: Logger;
  routes?: readonly RouteModule[];
  /** How often to look for CA changes made by other replicas (ms, default 10 s; 0 = never). */
  authorityRefreshMs?: number;
  /** Serve the operator API on `<dataDir>/admin.sock` for local commands (default true). */
  adminSocket?: boolean;
  /** Where device manifests come from (default: the scheduler's placements in the store). */
  placementSource?: PlacementSource;
  /** How long a signed desired-state statement is valid (ms, default 24 h). */
  desiredStateLifetimeMs?: number;
  /** Mean time between periodic scheduler reconciles (ms, default 30 s, jittered; 0 = off). */
  reconcileIntervalMs?: number;
  /** A device not polling for this long becomes `unknown` (ms, default 4 reconcile intervals). */
  staleAfterMs?: number;
  /** How long the history of which version each device ran is kept after a run ends (days; default 730). */
  runHistoryDays?: number;
  /** How long apps' usage samples are kept (days; default 14). */
  usageHistoryDays?: number;
  /** How long each CRL of the signed revocation list is valid (ms, default 24 h). */
  revocationListLifetimeMs?: number;
  /** How often to look whether the revocation list is due for re-issue (ms). */
  revocationListCheckMs?: number;
  /** How admission reaches each registry (`host[:port]` → credentials, CA, plain HTTP, deadlines); others get `registryDefaults`. */
  registries?: Record<string, RegistryClientOptions>;
  registryDefaults?: RegistryClientOptions;
  /** Bound on one artifact admission's registry work (ms, default 120 s). */
  admissionTimeoutMs?: number;
  /** Per client address, on the public timestamp authority (default 50/s, bursts of 100). */
  timestampRateLimit?: RateLimit;
  /** Mirror files younger than this are never garbage-collected (ms, default 10 min; docs/admission.md). */
  mirrorGcMinAgeMs?: number;
  /**
   * The URL devices and tools reach this control plane at (`https://host[:port][/prefix]`), the
   * base of every URL it hands out; default the listener's own `https://<host>:<port>`. Never
   * taken from a request's Host header (http/public-url.ts).
   */
  publicUrl?: string;
  /**
   * A second, plain-HTTP listener serving only `GET /metrics`, without a token, for a Prometheus
   * server that holds none (default: none; `/metrics` on the main listener needs an operator
   * token either way). Bind it to loopback or an interface only the scraper reaches.
   */
  metricsListen?: { host: string; port: number };
  /** How long one read of the fleet's figures from the store serves scrapes (ms, default 5 s). */
  metricsCacheMs?: number;
}

export interface ControlPlane {
  url: string;
  port: number;
  deps: ControlPlaneDeps;
  desiredState: DesiredStateService;
  /** The periodic scheduler reconcile (absent when `reconcileIntervalMs` is 0). */
  reconciler?: Reconciler;
  /** Copies of admitted artifacts, served to devices under /v2/ (docs/mirror.md). */
  mirror: ArtifactMirror;
  /** Removes from the mirror what no catalog version needs: after each retirement and once at start. */
  mirrorCollector: MirrorCollector;
  server: RunningServer;
  /** The plain-HTTP metrics listener, when `metricsListen` asked for one. */
  metricsListener?: MetricsListener;
  /** The HTTP app served: its `routes` are the whole URL tree (the fuzz benchmark walks them). */
  app: Hono<AppEnv>;
  close(): Promise<void>;
}

export const DEFAULT_CERTIFICATE_LIFETIME_MS = 30 * 86_400_000;

/**
 * Opens store and CA, builds the app, and serves it over HTTPS with optional client certificates.
 * The parts, each with its own state: the store and its background jobs (control-plane/store-and-jobs.ts),
 * the fleet signing roots and the desired-state key (rotated here or followed from other replicas:
 * control-plane/replica-refresh.ts), and the listener's TLS (control-plane/server-tls.ts).
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const given = options.logger ?? createLogger({ name: 'berth-orchestrator' });
  const publicUrl = options.publicUrl === undefined ? undefined : checkPublicUrl(options.publicUrl);
  // Its own registry (metrics/registry.ts); the store is counted from the moment it opens.
  const metrics = new ControlPlaneMetrics();
  const held = await StoreAndJobs.open(options.dataDir, options.storeUrl, (store) => metrics.instrumentStore(store));
  // Every security event raised from here on is also kept in the store (docs/audit.md).
  const audit = (held.audit = new AuditLog(held.store, given));
  const logger = withAuditSink(given, (event, fields) => audit.record(event, fields));
  try {
    return await serve({ ...options, ...(publicUrl ? { publicUrl } : {}) }, held, await openServices(options, held, metrics, logger), logger);
  } catch (err) {
    await held.stopJobs();
    await held.close();
    throw err;
  }
}

/** What the HTTP app is built from, opened against the store; the jobs among them are started. */
interface Services {
  authority: FleetAuthority;
  fleetSigning: FleetSigningState;
  keys: DesiredStateKeyControl;
  desiredState: DesiredStateService;
  mirror: ArtifactMirror;
  mirrorCollector: MirrorCollector;
  deps: ControlPlaneDeps;
}

async function openServices(options: ControlPlaneOptions, held: StoreAndJobs, metrics: ControlPlaneMetrics, logger: Logger): Promise<Services> {
  const { store } = held;
  const keyDir = join(options.dataDir, 'pki');
  const authority = await FleetAuthority.open({ store, keyDir, trustDomain: options.trustDomain ?? 'berth.local', logger });
  // Its own key, beside the CA keys but never the TLS key (docs/desired-state.md).
  const keys = await loadOrCreateKeys(keyDir);
  // The fleet signing CA and TSA, beside the CA keys (docs/signing.md); their certificates are
  // the roots certificate-signed bundles verify against, and their digest rides in every
  // desired-state statement so devices follow a rotation of them.
  const fleetSigning = await FleetSigningState.open(join(keyDir, 'signing'), logger);
  const reconcileIntervalMs = options.reconcileIntervalMs ?? 30_000;
  const presence = reconcileIntervalMs > 0 ? new DevicePresence() : undefined;
  const desiredState = (held.desiredState = await openDesiredState(options, { store, authority, keys, fleetSigning, presence, logger }));
  const revocationListLifetimeMs = options.revocationListLifetimeMs ?? DEFAULT_REVOCATION_LIST_LIFETIME_MS;
  await held.startRevocationUpkeep({
    authority,
    logger,
    lifetimeMs: revocationListLifetimeMs,
    ...(options.revocationListCheckMs !== undefined ? { checkMs: options.revocationListCheckMs } : {}),
  });
  const { mirror, mirrorCollector, artifacts } = await openArtifactServices(options, store, fleetSigning.signing, logger, metrics.admission);
  metrics.readFleet(store, logger, options.metricsCacheMs);
  metrics.watchLongPolls(desiredState);
  if (options.requireApproval !== undefined) await putSetting(store, 'onboarding_approval_required', options.requireApproval);
  const deviceAuth = (held.deviceAuth = await DeviceAuthCache.open(store, logger));
  const keyRotation = desiredStateKeyControl(keyDir, desiredState, logger);
  const deps: ControlPlaneDeps = {
    store,
    authority,
    logger,
    methods: [tokenMethod(logger), factoryMethod(logger)],
    certificateLifetimeMs: options.certificateLifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS,
    pendingRetrySeconds: options.pendingRetrySeconds ?? 5,
    desiredStateChanged: desiredState.changed,
    revocationListLifetimeMs,
    artifacts,
    mirrorCollector,
    fleetSigning: fleetSigning.signing,
    deviceAuth,
    ...(options.timestampRateLimit ? { timestampRateLimit: options.timestampRateLimit } : {}),
    fleetSigningRotation: fleetSigning.rotation(),
    desiredStateKeys: keyRotation,
    ...(held.audit ? { audit: held.audit } : {}),
    metrics,
  };
  deps.tuf = openTufRepository(keyDir, store, authority, desiredState, () => deps.fleetSigning, logger);
  metrics.watchSigning(() => deps.fleetSigning?.roots);
  // New fleet signing roots (rotated here or by another replica): issue, admit and sign with them.
  fleetSigning.onChange((next) => {
    deps.fleetSigning = next;
    artifacts.useRoots(next.compiled);
    desiredState.useSigningRootsDigest(signingRootsDigest(next.roots));
  });
  if (presence) {
    held.startReconciler({
      changed: desiredState.changed,
      presence,
      logger,
      intervalMs: reconcileIntervalMs,
      staleAfterMs: options.staleAfterMs ?? 4 * reconcileIntervalMs,
      ...(options.runHistoryDays !== undefined ? { runHistoryDays: options.runHistoryDays } : {}),
      ...(options.usageHistoryDays !== undefined ? { usageHistoryDays: options.usageHistoryDays } : {}),
      overlapMs: reconcileIntervalMs,
    });
  }
  return { authority, fleetSigning, keys: keyRotation, desiredState, mirror, mirrorCollector, deps };
}

/**
 * The fleet's TUF repository (docs/tuf.md), its online keys beside the other keys, its targets
 * the trust documents as their endpoints serve them.
 */
function openTufRepository(
  keyDir: string,
  store: Store,
  authority: FleetAuthority,
  desiredState: DesiredStateService,
  fleetSigning: () => ControlPlaneDeps['fleetSigning'],
  logger: Logger,
): TufRepository {
  const documents = fleetTrustDocuments({
    store,
    trustBundle: () => authority.bundle(),
    signingRoots: () => {
      const roots = fleetSigning()?.roots;
      return roots ? { signingCas: roots.signingCas, timestampAuthorities: roots.timestampAuthorities } : null;
    },
    desiredStateKeys: () => desiredState.publicJwks,
  });
  return new TufRepository(store, new OnlineKeys(join(keyDir, 'tuf')), documents, logger);
}

interface DesiredStateParts {
  store: Store;
  authority: FleetAuthority;
  keys: DesiredStateKeys;
  fleetSigning: FleetSigningState;
  presence: DevicePresence | undefined;
  logger: Logger;
}

function openDesiredState(
  options: ControlPlaneOptions,
  { store, authority, keys, fleetSigning, presence, logger }: DesiredStateParts,
): Promise<DesiredStateService> {
  return DesiredStateService.open({
    signingRootsDigest: fleetSigning.rootsDigest,
    store,
    placements: options.placementSource ?? storePlacementSource,
    signer: keys.signer,
    history: { previous: keys.previous, endorsements: keys.endorsements },
    logger,
    issuer: `spiffe://${authority.trustDomain}`,
    ...(options.desiredStateLifetimeMs !== undefined ? { statementLifetimeMs: options.desiredStateLifetimeMs } : {}),
    ...(presence ? { onPoll: (id: string) => presence.seen(id) } : {}),
  });
}

/** Serves the app over HTTPS (and the admin socket), keeps its TLS and this replica current, and publishes how local tools reach it. */
async function serve(options: ControlPlaneOptions, held: StoreAndJobs, services: Services, logger: Logger): Promise<ControlPlane> {
  const { authority, deps, desiredState, mirror, mirrorCollector } = services;
  const app = buildControlPlaneApp(deps, controlPlaneRoutes(options.routes ?? coreRoutes, desiredState, mirror.storage));
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicUrl ? [new URL(options.publicUrl).hostname.replace(/^\[|\]$/g, '')] : [];
  const tls = new ServerTls(authority, host, [...(options.serverNames ?? []), ...publicHost]);
  const running = await serveHttps(app, await tls.material(), host, options.port ?? 0);
  // Before anything else is started against the listener, so a failure here has only it to close.
  const metricsListener = await listenForScrapes(options, deps, running, logger);
  deps.publicUrl = options.publicUrl ?? running.url;
  const stopTlsRenewal = tls.keepCurrent(running, logger);
  const refresh = startReplicaRefresh(
    [
      { refresh: () => authority.refreshIfChanged(), failure: 'could not check the store for CA changes' },
      { refresh: services.keys.refresh, failure: 'could not check the desired-state signing key' },
      { refresh: () => services.fleetSigning.refresh(), failure: 'could not check the fleet signing roots' },
      // Trust documents changed here or elsewhere, or metadata half-way to expiry: signed anew.
      ...(deps.tuf ? [{ refresh: () => deps.tuf!.keepCurrent(), failure: 'could not keep the TUF metadata current' }] : []),
    ],
    options.authorityRefreshMs ?? 10_000,
    logger,
  );
  const adminSocket = options.adminSocket === false ? undefined : await serveAdminSocket(app, adminSocketPath(options.dataDir));
  await publishLocalTrust(options.dataDir, authority, running.url);
  logger.info({ url: running.url, trustDomain: authority.trustDomain, store: held.store.kind }, 'control plane listening');
  // What versions retired while no control plane ran (or on another replica) left in this mirror.
  mirrorCollector.request();
  return {
    url: running.url,
    port: running.port,
    deps,
    desiredState,
    ...(held.reconciler ? { reconciler: held.reconciler } : {}),
    mirror,
    mirrorCollector,
    server: running,
    ...(metricsListener ? { metricsListener } : {}),
    app,
    async close() {
      refresh.stop();
      stopTlsRenewal();
      await mirrorCollector.idle();
      await metricsListener?.close();
      await adminSocket?.close();
      await held.stopJobs();
      await running.close();
      await held.close();
    },
  };
}

/** The plain-HTTP /metrics listener, if asked for; the main listener is closed again if it cannot listen. */
async function listenForScrapes(
  options: ControlPlaneOptions,
  deps: ControlPlaneDeps,
  running: RunningServer,
  logger: Logger,
): Promise<MetricsListener | undefined> {
  const at = options.metricsListen;
  if (!at || !deps.metrics) return undefined;
  try {
    const listener = await serveMetrics(deps.metrics.registry, at.host, at.port);
    if (isLoopbackHost(at.host)) logger.info({ url: listener.url }, 'metrics listening (plain HTTP, no token)');
    else
      logger.warn({ url: listener.url }, 'metrics listening on a non-loopback address (plain HTTP, no token): anyone who reaches it reads the fleet figures');
    return listener;
  } catch (err) {
    await running.close();
    throw new BerthError('orchestrator.metrics_listen', `the metrics listener cannot listen on ${at.host}:${at.port}: ${errorMessage(err)}`);
  }
}

/** What local tools need to reach this control plane: its URL and the fleet roots to verify it. */
async function publishLocalTrust(dataDir: string, authority: FleetAuthority, url: string): Promise<void> {
  const writeTrust = () =>
    writePrivateFile(
      join(dataDir, 'ca.pem'),
      authority
        .roots()
        .map((r) => r.toString('pem') + '\n')
        .join(''),
    );
  await writeTrust();
  authority.onChange(writeTrust);
  await writePrivateFile(join(dataDir, 'control-plane.json'), JSON.stringify({ url, pid: process.pid, trustDomain: authority.trustDomain }) + '\n');
}
