import { auditPageSchema, auditQuerySchema } from '../../wire/audit.js';
import { apiGroup } from '../openapi/operation.js';

/** What auditRoutes (audit-routes.ts) serves under /api/v1/admin, for the OpenAPI document. */
export const auditApi = apiGroup('Audit', [
  {
    method: 'get',
    path: '/audit',
    summary: 'Read the audit log',
    description: 'Without `after`: newest first, older pages by `before`. With `after`: oldest first from that id on, for following the log (docs/audit.md).',
    access: 'operator',
    query: auditQuerySchema,
    responses: { 200: { description: 'A page of events', schema: auditPageSchema } },
  },
]);
