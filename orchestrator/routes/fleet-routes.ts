import { Hono } from 'hono';
import type { ControlPlaneDeps } from '../app.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator, roles } from '../http/operator-auth.js';
import { fleetOverview } from '../store/fleet.js';

/** GET /fleet under /api/v1/admin: every device with its health, last poll, certificate expiry and apps (the console's overview). */
export function fleetRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/fleet', requireOperator(deps, roles.operator), async (c) =>
    c.json({ devices: await fleetOverview(deps.store) }, 200, { 'cache-control': 'no-store' }),
  );
  return app;
}
