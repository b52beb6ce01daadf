import { Hono } from 'hono';
import { deviceIdSchema } from '../../wire/ids.js';
import { usageHistoryQuerySchema } from '../../wire/usage-history.js';
import type { ControlPlaneDeps } from '../app.js';
import { deviceUsageHistory } from '../devices/usage-history.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator, roles } from '../http/operator-auth.js';
import { pathParam, queryOf } from '../http/path-params.js';

/** GET /devices/:deviceId/usage under /api/v1/admin: a device's apps' usage history (the console's device page). */
export function usageRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // {.+}: a device id may be hierarchical (gateway/child).
  app.get('/devices/:deviceId{.+}/usage', requireOperator(deps, roles.operator), async (c) => {
    const deviceId = pathParam(c, 'deviceId', deviceIdSchema);
    const query = queryOf(c, usageHistoryQuerySchema);
    return c.json(await deviceUsageHistory(deps.store, deviceId, query), 200, { 'cache-control': 'no-store' });
  });
  return app;
}
