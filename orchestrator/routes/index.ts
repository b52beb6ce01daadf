import { Hono } from 'hono';
import type { RegistryStorage } from '../../oci/server/storage.js';
import type { ControlPlaneDeps, RouteModule } from '../app.js';
import type { DesiredStateService } from '../desired-state/service.js';
import type { AppEnv } from '../http/env.js';
import { mirrorApi } from '../mirror/api.js';
import { mirrorRoutes } from '../mirror/routes.js';
import { mountApi, type ApiOperation } from '../openapi/operation.js';
import { openApiApi, openApiRoutes } from '../openapi/routes.js';
import { adminApi } from './admin-api.js';
import { adminRoutes } from './admin-routes.js';
import { advisoryApi, vexApi } from './advisory-api.js';
import { advisoryRoutes } from './advisory-routes.js';
import { auditApi } from './audit-api.js';
import { auditRoutes } from './audit-routes.js';
import { consoleApi, fleetApi, whoamiApi } from './console-api.js';
import { consoleRoutes } from './console-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import { vexRoutes } from './vex-routes.js';
import { deviceApi } from './device-api.js';
import { deviceApiRoutes } from './device-api-routes.js';
import { identityApi } from './identity-api.js';
import { identityRoutes } from './identity-routes.js';
import { metricsApi } from './metrics-api.js';
import { metricsRoutes } from './metrics-routes.js';
import { onboardingApi } from './onboarding-api.js';
import { onboardingRoutes } from './onboarding-routes.js';
import { operatorDeploymentApi } from './operator-deployment-api.js';
import { operatorDeploymentRoutes } from './operator-deployment-routes.js';
import { signingApi } from './signing-api.js';
import { signingRoutes } from './signing-routes.js';
import { trustApi } from './trust-api.js';
import { tufAdminApi, tufApi } from './tuf-api.js';
import { tufAdminRoutes, tufRoutes } from './tuf-routes.js';
import { trustRoutes } from './trust-routes.js';
import { usageApi } from './usage-api.js';
import { usageRoutes } from './usage-routes.js';
import { vendorApi } from './vendor-api.js';
import { vendorRoutes } from './vendor-routes.js';
import { whoamiRoutes } from './whoami-routes.js';

/** A route group with what it serves, for the OpenAPI document (openapi/, docs/openapi.md). */
export type DocumentedRoutes = RouteModule & { readonly api: readonly ApiOperation[] };

/** A route group served under `prefix`; the group spells its paths (and its `api`) relative to it. */
function under(prefix: string, group: RouteModule, api: readonly ApiOperation[]): DocumentedRoutes {
  return Object.assign((deps: ControlPlaneDeps) => new Hono<AppEnv>().route(prefix, group(deps)), { api: mountApi(prefix, api) });
}

/** The operations a route module declares; a test's own module declares none. */
const apiOf = (module: RouteModule): readonly ApiOperation[] => (module as Partial<DocumentedRoutes>).api ?? [];

/** The Margo device API's prefix, as Margo fixes it. */
const DEVICE_API_PREFIX = '/api/v1';

/**
 * The control plane's URL tree, in the order Hono matches it (a group's middleware runs before
 * the groups after it). test/orchestrator/url-tree.test.ts lists every route this serves.
 */
export const coreRoutes: RouteModule[] = [
  // Margo's trust bootstrap at the paths Margo fixes: /.well-known/margo and /api/v1/trust-bundle (public).
  under('/', trustRoutes, trustApi),
  // Devices without a certificate yet: POST /, GET /:requestId.
  under('/api/v1/onboarding', onboardingRoutes, onboardingApi),
  // A device's own identity over mTLS: GET /, POST /renew; and the public /revocations.
  under('/api/v1/identity', identityRoutes, identityApi),
  // Operators: tokens, devices, onboarding requests, settings, manufacturers, CA and key rotations.
  under('/api/v1/admin', adminRoutes, adminApi),
  // Vendors, their apps and versions (operator or vendor tokens).
  under('/api/v1/catalog', vendorRoutes, vendorApi),
  // Operators: /deployments (and their status, rollouts, rollbacks), /scheduler/sweeps.
  under('/api/v1/admin', operatorDeploymentRoutes, operatorDeploymentApi),
  // Operators: /audit, the kept security events.
  under('/api/v1/admin', auditRoutes, auditApi),
  // Operators: /fleet, every device with its health, certificate expiry and apps (the console's overview).
  under('/api/v1/admin', fleetRoutes, fleetApi),
  // Operators: /devices/:deviceId/usage, a device's apps' usage history (the console's device page).
  under('/api/v1/admin', usageRoutes, usageApi),
  // The fleet's TUF repository: /metadata and /targets (public, everything signed); admins' /tuf.
  under('/api/v1/tuf', tufRoutes, tufApi),
  under('/api/v1/admin', tufAdminRoutes, tufAdminApi),
  // Any token: /whoami, its name and role (the console signs in with it).
  under('/api/v1', whoamiRoutes, whoamiApi),
  // Security advisories: /advisories (admins and vendors file, readers read), and their VEX.
  under('/api/v1', advisoryRoutes, advisoryApi),
  under('/api/v1', vexRoutes, vexApi),
  // Fleet signing: /timestamp (RFC 3161, public), /signing/roots, /signing/certificates.
  under('/api/v1', signingRoutes, signingApi),
  // This API described: /openapi.json and the reference page /docs (public).
  under('/api/v1', openApiRoutes(controlPlaneApi), openApiApi),
  // The web console's static files: /console/ and the few files it loads (docs/console.md).
  under('/', consoleRoutes, consoleApi),
];

/** Everything the control plane serves: the core groups (or a test's own), /metrics, the device API and the mirror. */
export function controlPlaneRoutes(core: readonly RouteModule[], desiredState: DesiredStateService, mirror: RegistryStorage): RouteModule[] {
  return [
    ...core,
    // GET /metrics for Prometheus, admins and operators only (docs/metrics.md).
    under('/', metricsRoutes, metricsApi),
    // The Margo device API over mTLS: /capabilities, /deployments, /bundles, /desired-state.
    under(DEVICE_API_PREFIX, deviceApiRoutes(desiredState), deviceApi),
    // /v2: the mirror's pull endpoints; the embedded registry's app spells its own /v2 paths,
    // as the standalone registry serves them.
    under('/', mirrorRoutes(mirror), mirrorApi),
  ];
}

/**
 * Every operation the control plane serves, for the OpenAPI document: the core groups', the
 * device API's and the mirror's. Static: what a group declares does not depend on its deps.
 */
export function controlPlaneApi(): ApiOperation[] {
  return [...coreRoutes.flatMap(apiOf), ...metricsApi, ...mountApi(DEVICE_API_PREFIX, deviceApi), ...mirrorApi];
}
