import { CONSOLE_FILES } from '../console/assets.js';
import { apiGroup } from '../openapi/operation.js';
import { fleetSchema } from '../../wire/fleet.js';
import { whoAmISchema } from '../../wire/whoami.js';

/** What fleetRoutes (fleet-routes.ts) serves under /api/v1/admin, for the OpenAPI document. */
export const fleetApi = apiGroup('Fleet', [
  {
    method: 'get',
    path: '/fleet',
    summary: 'Every device with its health, last seen, certificate expiry and apps',
    description: 'The web console’s overview (docs/console.md): what the store knows of each device, nothing derived.',
    access: 'operator',
    responses: {
      200: { description: 'The fleet', schema: fleetSchema },
    },
  },
]);

/** What whoamiRoutes (whoami-routes.ts) serves under /api/v1. */
export const whoamiApi = apiGroup('Operators', [
  {
    method: 'get',
    path: '/whoami',
    summary: 'Who a bearer token is: its name and role',
    access: 'catalog-reader',
    responses: { 200: { description: 'The token’s name and role', schema: whoAmISchema } },
  },
]);

/** What consoleRoutes (console-routes.ts) serves: the web console's static files, public since they hold no data. */
export const consoleApi = apiGroup('Console', [
  {
    method: 'get',
    path: '/console',
    summary: 'The web console (a redirect to /console/)',
    access: 'public',
    responses: { 301: { description: 'To /console/', headers: { location: 'console/' } } },
  },
  {
    method: 'get',
    path: '/console/',
    summary: 'The web console’s page (docs/console.md)',
    access: 'public',
    responses: { 200: { description: 'The page', contentType: 'text/html' }, 304: { description: 'Unchanged (If-None-Match)' } },
    problems: { 404: 'The console is not built in this install (console.not_built)' },
  },
  {
    method: 'get',
    path: '/console/:file',
    summary: 'One of the console’s files',
    description: `Only these exist: ${Object.keys(CONSOLE_FILES).join(', ')}.`,
    access: 'public',
    responses: { 200: { description: 'The file', contentType: 'application/octet-stream' }, 304: { description: 'Unchanged (If-None-Match)' } },
    problems: { 404: 'No such file (request.not_found), or the console is not built (console.not_built)' },
  },
]);
