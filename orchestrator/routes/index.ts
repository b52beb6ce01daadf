import { Hono } from 'hono';
import type { RegistryStorage } from '../../oci/server/storage.js';
import type { RouteModule } from '../app.js';
import type { DesiredStateService } from '../desired-state/service.js';
import type { AppEnv } from '../http/env.js';
import { mirrorRoutes } from '../mirror/routes.js';
import { adminRoutes } from './admin-routes.js';
import { advisoryRoutes } from './advisory-routes.js';
import { auditRoutes } from './audit-routes.js';
import { consoleRoutes } from './console-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import { vexRoutes } from './vex-routes.js';
import { deviceApiRoutes } from './device-api-routes.js';
import { identityRoutes } from './identity-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { onboardingRoutes } from './onboarding-routes.js';
import { operatorDeploymentRoutes } from './operator-deployment-routes.js';
import { signingRoutes } from './signing-routes.js';
import { trustRoutes } from './trust-routes.js';
import { vendorRoutes } from './vendor-routes.js';
import { whoamiRoutes } from './whoami-routes.js';

/** A route group served under `prefix`; the group spells its paths relative to it. */
function under(prefix: string, group: RouteModule): RouteModule {
  return (deps) => new Hono<AppEnv>().route(prefix, group(deps));
}

/**
 * The control plane's URL tree, in the order Hono matches it (a group's middleware runs before
 * the groups after it). test/orchestrator/url-tree.test.ts lists every route this serves.
 */
export const coreRoutes: RouteModule[] = [
  // Margo's trust bootstrap at the paths Margo fixes: /.well-known/margo and /api/v1/trust-bundle (public).
  trustRoutes,
  // Devices without a certificate yet: POST /, GET /:requestId.
  under('/api/v1/onboarding', onboardingRoutes),
  // A device's own identity over mTLS: GET /, POST /renew; and the public /revocations.
  under('/api/v1/identity', identityRoutes),
  // Operators: tokens, devices, onboarding requests, settings, manufacturers, CA and key rotations.
  under('/api/v1/admin', adminRoutes),
  // Vendors, their apps and versions (operator or vendor tokens).
  under('/api/v1/catalog', vendorRoutes),
  // Operators: /deployments (and their status, rollouts, rollbacks), /scheduler/sweeps.
  under('/api/v1/admin', operatorDeploymentRoutes),
  // Operators: /audit, the kept security events.
  under('/api/v1/admin', auditRoutes),
  // Operators: /fleet, every device with its health, certificate expiry and apps (the console's overview).
  under('/api/v1/admin', fleetRoutes),
  // Any token: /whoami, its name and role (the console signs in with it).
  under('/api/v1', whoamiRoutes),
  // Security advisories: /advisories (admins and vendors file, readers read), and their VEX.
  under('/api/v1', advisoryRoutes),
  under('/api/v1', vexRoutes),
  // Fleet signing: /timestamp (RFC 3161, public), /signing/roots, /signing/certificates.
  under('/api/v1', signingRoutes),
  // The web console's static files: /console/ and the few files it loads (docs/console.md).
  consoleRoutes,
];

/** Everything the control plane serves: the core groups (or a test's own), /metrics, the device API and the mirror. */
export function controlPlaneRoutes(core: readonly RouteModule[], desiredState: DesiredStateService, mirror: RegistryStorage): RouteModule[] {
  return [
    ...core,
    // GET /metrics for Prometheus, admins and operators only (docs/metrics.md).
    metricsRoutes,
    // The Margo device API over mTLS: /capabilities, /deployments, /bundles, /desired-state.
    under('/api/v1', deviceApiRoutes(desiredState)),
    // /v2: the mirror's pull endpoints; the embedded registry's app spells its own /v2 paths,
    // as the standalone registry serves them.
    mirrorRoutes(mirror),
  ];
}
