import { METRICS_CONTENT_TYPE } from '../../common/metrics-listener.js';
import { apiGroup } from '../openapi/operation.js';

/** What metricsRoutes (metrics-routes.ts) serves, for the OpenAPI document. */
export const metricsApi = apiGroup('Metrics', [
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of this replica and the fleet',
    description: 'Admins and operators; a separate plain-HTTP listener (--metrics-listen) serves the same without a token (docs/metrics.md).',
    access: 'operator',
    responses: { 200: { description: 'The text exposition format', contentType: METRICS_CONTENT_TYPE, bodyDescription: 'Prometheus text format 0.0.4' } },
  },
]);
