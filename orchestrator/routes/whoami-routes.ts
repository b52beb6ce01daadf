import { Hono } from 'hono';
import type { ControlPlaneDeps } from '../app.js';
import { canReadCatalog, vendorOfRole } from '../catalog/access.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator } from '../http/operator-auth.js';
import type { WhoAmI } from '../../wire/whoami.js';

/**
 * GET /whoami under /api/v1: who a bearer token is, for any operator, admin or vendor token. The
 * console signs in with it, and shows a vendor only the pages its role can read.
 */
export function whoamiRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Every role there is may read the catalog: the check is "a valid token", by the roles' own rule.
  app.get('/whoami', requireOperator(deps, canReadCatalog), (c) => {
    const { name, role } = c.get('operator');
    const vendor = vendorOfRole(role);
    return c.json({ name, role, ...(vendor ? { vendor } : {}) } satisfies WhoAmI, 200, { 'cache-control': 'no-store' });
  });
  return app;
}
