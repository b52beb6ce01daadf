import { Hono } from 'hono';
import { BerthError } from '../common/errors.js';
import type { DeviceAuthCache } from './http/device-auth-cache.js';
import type { RateLimit } from './http/rate-limit.js';
import type { DesiredStateKeyRotation } from './desired-state/signing-key.js';
import type { AppEnv } from './http/env.js';
import { HttpProblem, problemResponse, toHttpProblem } from './http/problem.js';
import { refuseUnsafePaths } from './http/path-params.js';
import { clientFaultProblem, isClientFault } from './http/client-fault.js';
import { storeUnavailable } from './http/store-unavailable.js';
import type { OnboardingDeps } from './onboarding/service.js';
import type { ArtifactAdmission } from './catalog/artifact-admission.js';
import type { FleetSigning } from '../trust/signing/fleet-signing.js';
import type { FleetSigningRotation } from './routes/admin-routes.js';
import type { DesiredStateChanged } from './desired-state/placement.js';
import { coreRoutes } from './routes/index.js';
import type { ControlPlaneMetrics } from './metrics/registry.js';
import type { TufRepository } from './tuf/repository.js';

/** Everything the control plane's HTTP app is built from; tests build it with their own. */
export interface ControlPlaneDeps extends OnboardingDeps {
  /** Told of every device whose placements changed, inside the changing transaction (desired-state side). */
  desiredStateChanged?: DesiredStateChanged;
  /** Verifies artifacts for new versions and re-checks them for deployments (default: registries over HTTPS, no fleet signing roots). */
  artifacts?: ArtifactAdmission;
  /** The fleet signing CA and timestamp authority served over HTTP (routes/signing-routes.ts). */
  fleetSigning?: FleetSigning;
  /** The control plane's own URL: the issuer named in the certificates its signing CA issues. */
  publicUrl?: string;
  /** Lifetime of the signed revocation list's CRLs (docs/workload-identity.md). */
  revocationListLifetimeMs?: number;
  /** Device authentication's store answers, kept between requests (http/device-auth-cache.ts). */
  deviceAuth?: DeviceAuthCache;
  /** Per client address on the public timestamp authority (routes/signing-routes.ts has the default). */
  timestampRateLimit?: RateLimit;
  /** The mirror's garbage collection, asked for after a version is retired (mirror/gc.ts). */
  mirrorCollector?: { request(): void };
  /** Rotates the desired-state signing key (desired-state/signing-key.ts); the new key id and the ones before. */
  desiredStateKeys?: DesiredStateKeyRotation;
  /** Rotates the fleet signing CA and/or TSA with overlap (docs/signing.md). */
  fleetSigningRotation?: FleetSigningRotation;
  /** The fleet's TUF repository (docs/tuf.md): served at /api/v1/tuf, its root imported by admins. */
  tuf?: TufRepository;
  /** The audit log's writer: flushed before the log is read, so an operator sees what they just did. */
  audit?: { flush(): Promise<void> };
  /** This control plane's metrics (docs/metrics.md): requests are counted and `GET /metrics` is served when present. */
  metrics?: ControlPlaneMetrics;
}

/** A later issue's routes (Margo device API, apps, deployments) plug in as one of these. */
export type RouteModule = (deps: ControlPlaneDeps) => Hono<AppEnv>;

/** The URL tree (routes/index.ts): each route group under its prefix. */
export { coreRoutes };

export function buildControlPlaneApp(deps: ControlPlaneDeps, modules: readonly RouteModule[] = coreRoutes): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // First, so every request is counted with the status it got, refusals by later checks included.
  if (deps.metrics) app.use('*', deps.metrics.http);
  app.use('*', refuseUnsafePaths);
  for (const module of modules) app.route('/', module(deps));
  app.notFound((c) =>
    problemResponse(
      c,
      new HttpProblem(404, 'request.not_found', 'No such endpoint', { detail: `${c.req.method} ${c.req.path} is not an endpoint of this control plane` }),
    ),
  );
  app.onError((err, c) => {
    if (err instanceof BerthError) return problemResponse(c, toHttpProblem(err));
    if (isClientFault(err, c.req.raw)) {
      deps.logger.debug({ err, path: c.req.path, method: c.req.method }, 'request failed on the client side');
      return problemResponse(c, clientFaultProblem());
    }
    const unavailable = storeUnavailable(err);
    if (unavailable) {
      deps.logger.warn({ err: (err as Error).message, path: c.req.path, method: c.req.method }, 'store unreachable; answered 503');
      return problemResponse(c, unavailable);
    }
    deps.logger.error({ err, path: c.req.path, method: c.req.method }, 'unexpected error');
    return problemResponse(
      c,
      new HttpProblem(500, 'internal', 'Internal error', {
        detail: 'the control plane failed; the error is logged',
        retryable: true,
        backoffStrategy: 'exponential',
      }),
    );
  });
  return app;
}
