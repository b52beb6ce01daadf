import { Hono } from 'hono';
import { METRICS_CONTENT_TYPE } from '../../common/metrics-listener.js';
import type { RouteModule } from '../app.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator, roles } from '../http/operator-auth.js';

/**
 * `GET /metrics` (docs/metrics.md) on the main listener: admins and operators only, since the
 * figures describe the whole fleet. A Prometheus server that cannot hold a bearer token scrapes
 * the separate plain-HTTP listener instead (`metricsListen`), which needs none.
 */
export const metricsRoutes: RouteModule = (deps) => {
  const app = new Hono<AppEnv>();
  const metrics = deps.metrics;
  if (!metrics) return app;
  app.get('/metrics', requireOperator(deps, roles.operator), async (c) =>
    c.body(await metrics.text(), 200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }),
  );
  return app;
};
