import { deviceIdSchema } from '../../wire/ids.js';
import { USAGE_SAMPLE_INTERVAL_SECONDS, usageHistoryQuerySchema, usageHistorySchema } from '../../wire/usage-history.js';
import { apiGroup } from '../openapi/operation.js';

/** What usageRoutes (usage-routes.ts) serves under /api/v1/admin, for the OpenAPI document. */
export const usageApi = apiGroup('Fleet', [
  {
    method: 'get',
    path: '/devices/:deviceId{.+}/usage',
    summary: 'A device’s apps’ resource use over time',
    description: `Sampled from the usage devices send with their status reports: at most one sample per deployment every ${USAGE_SAMPLE_INTERVAL_SECONDS} s, kept for \`--usage-history-days\` (default 14 days). The newest \`limit\` matching samples, oldest first (docs/accounting.md).`,
    access: 'operator',
    params: { deviceId: deviceIdSchema },
    query: usageHistoryQuerySchema,
    responses: { 200: { description: 'The samples', schema: usageHistorySchema } },
    problems: { 404: 'No such device (device.unknown)' },
  },
]);
