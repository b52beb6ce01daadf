import { Hono } from 'hono';
import { auditQuerySchema } from '../../wire/audit.js';
import type { ControlPlaneDeps } from '../app.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator, roles } from '../http/operator-auth.js';
import { queryOf } from '../http/path-params.js';
import { listAuditEvents } from '../store/audit.js';

/** The audit log under /api/v1/admin (docs/audit.md): the fleet's operators read it. */
export function auditRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/audit', requireOperator(deps, roles.operator), async (c) => {
    const query = queryOf(c, auditQuerySchema);
    await deps.audit?.flush();
    return c.json(await listAuditEvents(deps.store, query));
  });
  return app;
}
