import { Hono } from 'hono';
import type { ControlPlaneDeps, RouteModule } from '../app.js';
import type { DesiredStateService } from '../desired-state/service.js';
import { requireDevice } from '../http/device-auth.js';
import type { AppEnv } from '../http/env.js';
import { deviceCapabilitiesRoutes } from './device-capabilities-routes.js';
import { deviceDeploymentsRoutes } from './device-deployments-routes.js';
import { deviceStatusRoutes } from './device-status-routes.js';

/** The Margo device API, every path behind mutual TLS (checked once per request). */
export function deviceApiRoutes(svc: DesiredStateService): RouteModule {
  return (deps: ControlPlaneDeps) => {
    const app = new Hono<AppEnv>();
    const auth = requireDevice(deps);
    for (const path of ['/capabilities/*', '/deployments', '/deployments/*', '/bundles/*', '/desired-state/*']) app.use(path, auth);
    app.route('/capabilities', deviceCapabilitiesRoutes(deps));
    app.route('/', deviceDeploymentsRoutes(svc));
    app.route('/deployments', deviceStatusRoutes(deps, svc));
    return app;
  };
}
