import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../common/logger.js';
import { issueServerCertificate } from '../trust/authority.js';
import { certificateToPem, privateKeyToPem } from '../trust/x509.js';
import { buildControlPlaneApp, coreRoutes, type ControlPlaneDeps, type RouteModule } from './app.js';
import type { Hono } from 'hono';
import type { AppEnv } from './http/env.js';
import { serveAdminSocket } from './http/admin-socket.js';
import { serveHttps, type RunningServer, type TlsMaterial } from './http/serve.js';
import { lockDataDir } from './data-dir-lock.js';
import { writePrivateFile } from '../trust/key-files.js';
import { factoryMethod } from './onboarding/factory-method.js';
import { tokenMethod } from './onboarding/token-method.js';
import { FleetAuthority } from './pki/fleet-authority.js';
import { putSetting } from './store/authorities.js';
import { openStore, type Store, type StoreLocation } from './store/store.js';
import type { PlacementSource } from './desired-state/placement.js';
import { DeviceAuthCache } from './http/device-auth-cache.js';
import type { RateLimit } from './http/rate-limit.js';
import { DesiredStateService } from './desired-state/service.js';
import { loadKeys, loadOrCreateKeys, rotateSigningKey } from './desired-state/signing-key.js';
import { storePlacementSource } from './deployments/placement-source.js';
import { deviceApiRoutes } from './routes/device-api-routes.js';
import { DevicePresence } from './scheduling/presence.js';
import { startReconciler, type Reconciler } from './scheduling/reconcile.js';
import { RegistryStorage } from '../oci/server/storage.js';
import { ArtifactMirror } from './mirror/mirror.js';
import { mirrorRoutes } from './mirror/routes.js';
import { MirrorCollector } from './mirror/gc.js';
import { ArtifactAdmission } from './catalog/artifact-admission.js';
import { RegistrySource } from '../oci/source.js';
import type { RegistryClientOptions } from '../oci/client.js';
import { loadFleetSigning, loadOrCreateFleetSigning, retireFleetSigningRoot, rotateFleetSigning, type FleetSigning } from '../trust/signing/fleet-signing.js';
import { signingRootsDigest } from '../trust/signing/roots.js';
import { fingerprintOfPem } from '../trust/signing/roots-fingerprint.js';
import { DEFAULT_REVOCATION_LIST_LIFETIME_MS } from './revocations/publish.js';
import { startRevocationUpkeep, type RevocationUpkeep } from './revocations/upkeep.js';

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
  /** The HTTP app served: its `routes` are the whole URL tree (the fuzz benchmark walks them). */
  app: Hono<AppEnv>;
  close(): Promise<void>;
}

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'admin.sock');
}

export const DEFAULT_CERTIFICATE_LIFETIME_MS = 30 * 86_400_000;
const SERVER_CERT_LIFETIME_MS = 30 * 86_400_000;

/** Opens store and CA, builds the app, and serves it over HTTPS with optional client certificates. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const logger = options.logger ?? createLogger({ name: 'berth-orchestrator' });
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(join(options.dataDir, 'control-plane.lock'));
  const location: StoreLocation = options.storeUrl ? { kind: 'postgres', url: options.storeUrl } : { kind: 'pglite', dataDir: join(options.dataDir, 'store') };
  let store: Store;
  try {
    store = await openStore(location);
  } catch (err) {
    lock.release();
    throw err;
  }
  let desiredState: DesiredStateService | undefined;
  let reconciler: Reconciler | undefined;
  const reconcileIntervalMs = options.reconcileIntervalMs ?? 30_000;
  const presence = reconcileIntervalMs > 0 ? new DevicePresence() : undefined;
  let revocations: RevocationUpkeep | undefined;
  let deviceAuth: DeviceAuthCache | undefined;
  try {
    const keyDir = join(options.dataDir, 'pki');
    const authority = await FleetAuthority.open({ store, keyDir, trustDomain: options.trustDomain ?? 'berth.local', logger });
    // Its own key, beside the CA keys but never the TLS key (docs/desired-state.md).
    const keys = await loadOrCreateKeys(keyDir);
    // The fleet signing CA and TSA, beside the CA keys (docs/signing.md); their certificates are
    // the roots certificate-signed bundles verify against, and their digest rides in every
    // desired-state statement so devices follow a rotation of them.
    const signingDir = join(keyDir, 'signing');
    const fleetSigning = await loadOrCreateFleetSigning(signingDir);
    desiredState = await DesiredStateService.open({
      signingRootsDigest: signingRootsDigest(fleetSigning.roots),
      store,
      placements: options.placementSource ?? storePlacementSource,
      signer: keys.signer,
      history: { previous: keys.previous, endorsements: keys.endorsements },
      logger,
      issuer: `spiffe://${authority.trustDomain}`,
      ...(options.desiredStateLifetimeMs !== undefined ? { statementLifetimeMs: options.desiredStateLifetimeMs } : {}),
      ...(presence ? { onPoll: (id: string) => presence.seen(id) } : {}),
    });
    const revocationListLifetimeMs = options.revocationListLifetimeMs ?? DEFAULT_REVOCATION_LIST_LIFETIME_MS;
    revocations = await startRevocationUpkeep({ store, authority, logger, lifetimeMs: revocationListLifetimeMs, ...(options.revocationListCheckMs !== undefined ? { checkMs: options.revocationListCheckMs } : {}) });
    const registries = options.registries ?? {};
    const registrySource = new RegistrySource((registry) => ({ ...options.registryDefaults, ...registries[registry] }));
    // Copies of admitted artifacts for devices without a route to the registry (docs/mirror.md).
    const mirror = new ArtifactMirror(await RegistryStorage.open(join(options.dataDir, 'mirror')), registrySource, logger);
    const mirrorCollector = new MirrorCollector({
      store,
      storage: mirror.storage,
      lock: mirror.lock,
      logger,
      ...(options.mirrorGcMinAgeMs !== undefined ? { minAgeMs: options.mirrorGcMinAgeMs } : {}),
    });
    const artifacts = new ArtifactAdmission({
      source: registrySource,
      mirror,
      roots: fleetSigning.compiled,
      logger,
      ...(options.admissionTimeoutMs !== undefined ? { timeoutMs: options.admissionTimeoutMs } : {}),
    });
    if (options.requireApproval !== undefined) await putSetting(store, 'onboarding_approval_required', options.requireApproval);
    deviceAuth = await DeviceAuthCache.open(store, logger);
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
      fleetSigning,
      deviceAuth,
      ...(options.timestampRateLimit ? { timestampRateLimit: options.timestampRateLimit } : {}),
      fleetSigningRotation: {
        async rotate(what) {
          const rotated = await changeFleetSigning(() => rotateFleetSigning(signingDir, what));
          return { signingCa: fingerprintOfPem(rotated.ca.certPem), timestampAuthority: fingerprintOfPem(rotated.tsa.certChainPem[0]), ...rootsSummary(rotated) };
        },
        async retire(fingerprint) {
          return rootsSummary(await changeFleetSigning(() => retireFleetSigningRoot(signingDir, fingerprint)));
        },
      },
      desiredStateKeys: {
        async rotate() {
          const rotated = await rotateSigningKey(keyDir);
          desiredState!.useKeys(rotated);
          const answer = { keyId: rotated.signer.keyId, previous: rotated.previous.map((k) => String(k.kid)) };
          logger.info(answer, 'desired-state signing key rotated');
          return answer;
        },
      },
    };
    /** New fleet signing roots (rotated here or by another replica): issue, admit and sign with them. */
    const useFleetSigning = (next: FleetSigning): void => {
      deps.fleetSigning = next;
      artifacts.useRoots(next.compiled);
      desiredState!.useSigningRootsDigest(signingRootsDigest(next.roots));
    };
    // One change of the signing roots at a time on this replica (each reads what the one before wrote).
    let signingChanges: Promise<unknown> = Promise.resolve();
    const changeFleetSigning = (change: () => Promise<FleetSigning>): Promise<FleetSigning> => {
      const run = signingChanges.then(async () => {
        const next = await change();
        useFleetSigning(next);
        return next;
      });
      signingChanges = run.catch(() => undefined);
      return run;
    };
    const rootsSummary = (next: FleetSigning) => ({ signingCas: next.roots.signingCas.length, timestampAuthorities: next.roots.timestampAuthorities.length, signingRootsDigest: signingRootsDigest(next.roots) });
    const host = options.host ?? '127.0.0.1';
    const names = [...new Set([host, 'localhost', '127.0.0.1', ...(options.serverNames ?? [])])].filter((n) => n !== '0.0.0.0' && n !== '::');
    const tlsMaterial = async (): Promise<TlsMaterial> => {
      const issuer = await authority.serverIssuer();
      const server = await issueServerCertificate(issuer, authority.trustDomain, names, { lifetimeMs: SERVER_CERT_LIFETIME_MS });
      return {
        key: await privateKeyToPem(server.keys.privateKey),
        cert: certificateToPem(server.certificate) + certificateToPem(issuer.certificate),
        ca: authority.trustAnchorsPem(),
      };
    };
    if (presence) {
      reconciler = startReconciler({
        store,
        changed: desiredState.changed,
        presence,
        logger,
        intervalMs: reconcileIntervalMs,
        staleAfterMs: options.staleAfterMs ?? 4 * reconcileIntervalMs,
        overlapMs: reconcileIntervalMs,
      });
    }
    const app = buildControlPlaneApp(deps, [...(options.routes ?? coreRoutes), deviceApiRoutes(desiredState), mirrorRoutes(mirror.storage)]);
    const running = await serveHttps(app, await tlsMaterial(), host, options.port ?? 0);
    deps.publicUrl = running.url;
    authority.onChange(async () => {
      try {
        running.updateTls(await tlsMaterial());
      } catch (err) {
        logger.error({ err }, 'could not renew the server TLS material');
      }
    });
    // The server's own certificate is short-lived too: a fresh one at half its lifetime.
    const serverRenewal = setInterval(() => {
      tlsMaterial().then(running.updateTls, (err: unknown) => logger.error({ err }, 'could not renew the server certificate'));
    }, SERVER_CERT_LIFETIME_MS / 2).unref();
    const refreshMs = options.authorityRefreshMs ?? 10_000;
    let refreshing = false;
    const refresher =
      refreshMs > 0
        ? setInterval(() => {
            if (refreshing) return;
            refreshing = true;
            Promise.all([
              authority.refreshIfChanged().catch((err: unknown) => logger.warn({ err }, 'could not check the store for CA changes')),
              // Another replica may have rotated the desired-state key in the shared key directory.
              loadKeys(keyDir)
                .then((onDisk) => {
                  if (onDisk && onDisk.signer.keyId !== desiredState!.keyId) {
                    desiredState!.useKeys(onDisk);
                    logger.info({ keyId: onDisk.signer.keyId }, 'desired-state signing key rotated elsewhere; signing with it');
                  }
                })
                .catch((err: unknown) => logger.warn({ err }, 'could not check the desired-state signing key')),
              // Another replica may have rotated the fleet signing CA or TSA in the shared directory.
              loadFleetSigning(signingDir)
                .then((onDisk) => {
                  if (onDisk && signingRootsDigest(onDisk.roots) !== desiredState!.signingRootsDigest) {
                    useFleetSigning(onDisk);
                    logger.info({ signingCas: onDisk.roots.signingCas.length, timestampAuthorities: onDisk.roots.timestampAuthorities.length }, 'fleet signing roots rotated elsewhere; using them');
                  }
                })
                .catch((err: unknown) => logger.warn({ err }, 'could not check the fleet signing roots')),
            ]).finally(() => (refreshing = false));
          }, refreshMs).unref()
        : undefined;
    const adminSocket = options.adminSocket === false ? undefined : await serveAdminSocket(app, adminSocketPath(options.dataDir));
    // What local tools need to reach this control plane: its URL and the fleet roots to verify it.
    const writeTrust = () => writePrivateFile(join(options.dataDir, 'ca.pem'), authority.roots().map((r) => r.toString('pem') + '\n').join(''));
    await writeTrust();
    authority.onChange(writeTrust);
    await writePrivateFile(join(options.dataDir, 'control-plane.json'), JSON.stringify({ url: running.url, pid: process.pid, trustDomain: authority.trustDomain }) + '\n');
    logger.info({ url: running.url, trustDomain: authority.trustDomain, store: store.kind }, 'control plane listening');
    // What versions retired while no control plane ran (or on another replica) left in this mirror.
    mirrorCollector.request();
    return {
      url: running.url,
      port: running.port,
      deps,
      desiredState,
      ...(reconciler ? { reconciler } : {}),
      mirror,
      mirrorCollector,
      server: running,
      app,
      async close() {
        clearInterval(refresher);
        clearInterval(serverRenewal);
        await mirrorCollector.idle();
        await adminSocket?.close();
        await reconciler?.stop();
        await revocations?.stop();
        await desiredState?.close();
        await deviceAuth?.close();
        await running.close();
        await store.close();
        lock.release();
      },
    };
  } catch (err) {
    await reconciler?.stop();
    await revocations?.stop();
    await desiredState?.close();
    await deviceAuth?.close();
    await store.close();
    lock.release();
    throw err;
  }
}
