import { describe, expect, it } from 'vitest';
import { buildControlPlaneApp, coreRoutes, type ControlPlaneDeps } from '../../orchestrator/app.js';
import { ControlPlaneMetrics } from '../../orchestrator/metrics/registry.js';
import { controlPlaneRoutes } from '../../orchestrator/routes/index.js';

/**
 * Every route the control plane serves, in the order Hono registered it: one line per handler
 * (a route behind a role check is two, the check and the handler; `ALL` lines are middleware).
 * Taken from the app as it was before each route group was mounted under its prefix, so that
 * moving a group, or a path within one, shows up here as a changed URL. The first two lines are
 * the request metrics (metrics/http-metrics.ts) and the app-wide check of path escapes
 * (http/path-params.ts).
 */
const SERVED = `
  ALL /*
  ALL /*
  GET /.well-known/margo
  GET /api/v1/trust-bundle
  POST /api/v1/onboarding
  GET /api/v1/onboarding/:requestId
  ALL /api/v1/identity
  ALL /api/v1/identity/*
  GET /api/v1/identity/revocations
  GET /api/v1/identity
  POST /api/v1/identity/renew
  POST /api/v1/admin/tokens
  POST /api/v1/admin/tokens
  POST /api/v1/admin/enrollment-tokens
  POST /api/v1/admin/enrollment-tokens
  GET /api/v1/admin/devices
  GET /api/v1/admin/devices
  POST /api/v1/admin/device-revocations
  POST /api/v1/admin/device-revocations
  GET /api/v1/admin/onboarding-requests
  GET /api/v1/admin/onboarding-requests
  POST /api/v1/admin/onboarding-requests/:id/:decision{approve|deny}
  POST /api/v1/admin/onboarding-requests/:id/:decision{approve|deny}
  PUT /api/v1/admin/settings/onboarding-approval
  PUT /api/v1/admin/settings/onboarding-approval
  POST /api/v1/admin/manufacturers
  POST /api/v1/admin/manufacturers
  POST /api/v1/admin/ca/rotations
  POST /api/v1/admin/ca/rotations
  POST /api/v1/admin/desired-state/key-rotations
  POST /api/v1/admin/desired-state/key-rotations
  POST /api/v1/admin/signing/rotations
  POST /api/v1/admin/signing/rotations
  POST /api/v1/admin/signing/retirements
  POST /api/v1/admin/signing/retirements
  POST /api/v1/admin/ca/retirements
  POST /api/v1/admin/ca/retirements
  POST /api/v1/catalog/vendors
  POST /api/v1/catalog/vendors
  GET /api/v1/catalog/vendors
  GET /api/v1/catalog/vendors
  GET /api/v1/catalog/vendors/:name
  GET /api/v1/catalog/vendors/:name
  PUT /api/v1/catalog/vendors/:name/trust-policy
  PUT /api/v1/catalog/vendors/:name/trust-policy
  GET /api/v1/catalog/apps
  GET /api/v1/catalog/apps
  POST /api/v1/catalog/apps
  POST /api/v1/catalog/apps
  GET /api/v1/catalog/apps/:id
  GET /api/v1/catalog/apps/:id
  GET /api/v1/catalog/apps/:id/versions
  GET /api/v1/catalog/apps/:id/versions
  POST /api/v1/catalog/apps/:id/versions
  POST /api/v1/catalog/apps/:id/versions
  DELETE /api/v1/catalog/apps/:id/versions/:version
  DELETE /api/v1/catalog/apps/:id/versions/:version
  POST /api/v1/admin/deployments
  POST /api/v1/admin/deployments
  GET /api/v1/admin/deployments
  GET /api/v1/admin/deployments
  GET /api/v1/admin/deployments/:id
  GET /api/v1/admin/deployments/:id
  DELETE /api/v1/admin/deployments/:id
  DELETE /api/v1/admin/deployments/:id
  GET /api/v1/admin/deployments/:id/status
  GET /api/v1/admin/deployments/:id/status
  POST /api/v1/admin/deployments/:id/rollouts
  POST /api/v1/admin/deployments/:id/rollouts
  POST /api/v1/admin/deployments/:id/rollout/pause
  POST /api/v1/admin/deployments/:id/rollout/pause
  POST /api/v1/admin/deployments/:id/rollout/resume
  POST /api/v1/admin/deployments/:id/rollout/resume
  POST /api/v1/admin/deployments/:id/rollbacks
  POST /api/v1/admin/deployments/:id/rollbacks
  POST /api/v1/admin/scheduler/sweeps
  POST /api/v1/admin/scheduler/sweeps
  GET /api/v1/admin/audit
  GET /api/v1/admin/audit
  GET /api/v1/admin/fleet
  GET /api/v1/admin/fleet
  GET /api/v1/admin/devices/:deviceId{.+}/usage
  GET /api/v1/admin/devices/:deviceId{.+}/usage
  GET /api/v1/tuf/metadata/:name
  GET /api/v1/tuf/targets/:path{.+}
  GET /api/v1/admin/tuf
  GET /api/v1/admin/tuf
  POST /api/v1/admin/tuf/online-keys
  POST /api/v1/admin/tuf/online-keys
  PUT /api/v1/admin/tuf/root
  PUT /api/v1/admin/tuf/root
  GET /api/v1/whoami
  GET /api/v1/whoami
  POST /api/v1/advisories
  POST /api/v1/advisories
  GET /api/v1/advisories
  GET /api/v1/advisories
  GET /api/v1/advisories/:id/exposure
  GET /api/v1/advisories/:id/exposure
  GET /api/v1/advisories/:id
  GET /api/v1/advisories/:id
  PUT /api/v1/advisories/:id/vex
  PUT /api/v1/advisories/:id/vex
  POST /api/v1/vex
  POST /api/v1/vex
  GET /api/v1/advisories/:id/vex
  GET /api/v1/advisories/:id/vex
  POST /api/v1/timestamp
  POST /api/v1/timestamp
  POST /api/v1/timestamp
  GET /api/v1/signing/roots
  POST /api/v1/signing/certificates
  POST /api/v1/signing/certificates
  GET /api/v1/openapi.json
  GET /api/v1/docs
  GET /console
  GET /console/
  GET /console/:file
  GET /metrics
  GET /metrics
  ALL /api/v1/capabilities/*
  ALL /api/v1/deployments
  ALL /api/v1/deployments/*
  ALL /api/v1/bundles/*
  ALL /api/v1/desired-state/*
  PUT /api/v1/capabilities/:deviceId{.+}
  DELETE /api/v1/capabilities/:deviceId{.+}
  GET /api/v1/deployments
  GET /api/v1/deployments/:deploymentId/:digest
  GET /api/v1/bundles/:digest
  GET /api/v1/desired-state/keys
  POST /api/v1/deployments/:deploymentId/status
  ALL /v2
  ALL /v2/*
  ALL /v2/*
  ALL /v2
  ALL /v2/*
`
  .trim()
  .split('\n')
  .map((l) => l.trim());

describe('the control plane URL tree', () => {
  it('serves exactly the routes it served before, in the same order', () => {
    // Built from the real route modules, as the control plane builds it; no request is made, so
    // their collaborators (store, authority, desired state, mirror storage) are never reached; a
    // fleet signing service and metrics are there because without them the signing group and
    // /metrics serve nothing.
    const deps = { logger: console, fleetSigning: {}, metrics: new ControlPlaneMetrics() } as unknown as ControlPlaneDeps;
    const app = buildControlPlaneApp(deps, controlPlaneRoutes(coreRoutes, {} as never, {} as never));
    expect(app.routes.map((r) => `${r.method} ${r.path}`)).toEqual(SERVED);
  });
});
