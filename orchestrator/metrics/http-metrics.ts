import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AppEnv } from '../http/env.js';

/** Request latency buckets, seconds: from a cached poll answer to a long-poll (60 s) or an admission (120 s). */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The label for a request no route matched (a 404 for an unknown path): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route a request went to, as its pattern (`/api/v1/admin/deployments/:id`), never the raw
 * path, so the label has as many values as the URL tree has routes. The first route registered
 * for the request's method is its endpoint (a role check and its handler share one pattern);
 * wildcard groups answering every method (the mirror's `/v2/*`) fall back to the last pattern
 * matched other than the app-wide `/*`.
 */
export function routeLabel(c: Context): string {
  const matched = matchedRoutes(c);
  const endpoint = matched.find((r) => r.method !== 'ALL');
  if (endpoint) return endpoint.path;
  const group = matched.findLast((r) => r.path !== '/*');
  return group?.path ?? UNMATCHED_ROUTE;
}

/**
 * Counts and times every request through the app, with the route pattern as its label (docs/metrics.md,
 * "Requests"). Installed first, so a request refused by a middleware (401, 403, 400) or failed in a
 * handler (the app's onError answers inside) is counted with the status it got.
 */
export function httpMetrics(registry: Registry): MiddlewareHandler<AppEnv> {
  const requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests answered by this replica, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'Time from a request reaching the app to its answer (headers), by method, route pattern and status code; long-polls included.',
    labelNames: ['method', 'route', 'status'],
    buckets: [...REQUEST_DURATION_BUCKETS],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'berth_http_requests_in_flight',
    help: 'Requests this replica is answering now, parked long-polls included.',
    registers: [registry],
  });
  return async (c, next) => {
    const started = performance.now();
    inFlight.inc();
    try {
      await next();
    } finally {
      inFlight.dec();
      // A thrown error that escaped onError (none should) is still a 500 to the client.
      const labels = { method: METHODS.has(c.req.method) ? c.req.method : 'OTHER', route: routeLabel(c), status: String(c.res?.status ?? 500) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}
