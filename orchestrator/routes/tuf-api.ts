import { onlineKeySetSchema, rootAcceptedSchema, rootUploadSchema, tufStatusSchema } from '../../wire/tuf-admin.js';
import { emptyBody } from '../http/body.js';
import { apiGroup } from '../openapi/operation.js';
import { TUF_METADATA_NAME, TUF_TARGET_PATH } from './tuf-routes.js';

/** What tufRoutes (tuf-routes.ts) serves under /api/v1/tuf, for the OpenAPI document. */
export const tufApi = apiGroup('TUF repository', [
  {
    method: 'get',
    path: '/metadata/:name',
    summary: 'TUF metadata: `timestamp.json`, or `<n>.root.json`, `<n>.snapshot.json`, `<n>.targets.json`',
    description: 'Signed by the offline root keys (root) or the control plane’s online keys (the others); docs/tuf.md.',
    access: 'public',
    params: { name: TUF_METADATA_NAME },
    responses: { 200: { description: 'The metadata, exactly as signed', bodyDescription: 'TUF metadata: `{signed, signatures}`' } },
    problems: { 404: 'No such version, or no repository yet (tuf.not_found)', 503: 'This control plane serves no TUF repository (tuf.unavailable)' },
  },
  {
    method: 'get',
    path: '/targets/:path{.+}',
    summary: 'A target file by `<dir>/<sha256>.<name>`, as the targets metadata lists it',
    access: 'public',
    params: { path: TUF_TARGET_PATH },
    responses: { 200: { description: 'The file', contentType: 'application/octet-stream' } },
    problems: { 404: 'No such file (tuf.not_found)', 503: 'This control plane serves no TUF repository (tuf.unavailable)' },
  },
]);

/** What tufAdminRoutes (tuf-routes.ts) serves under /api/v1/admin. */
export const tufAdminApi = apiGroup('TUF repository', [
  {
    method: 'get',
    path: '/tuf',
    summary: 'What the TUF repository serves: each role’s version and expiry, the target paths',
    access: 'operator',
    responses: { 200: { description: 'The repository’s state', schema: tufStatusSchema } },
    problems: { 503: 'This control plane serves no TUF repository (tuf.unavailable)' },
  },
  {
    method: 'post',
    path: '/tuf/online-keys',
    summary: 'Make a fresh online key per role (targets, snapshot, timestamp) for the next root to name',
    access: 'admin',
    body: emptyBody,
    responses: { 201: { description: 'The new keys’ public halves and ids', schema: onlineKeySetSchema } },
    problems: { 503: 'This control plane serves no TUF repository (tuf.unavailable)' },
  },
  {
    method: 'put',
    path: '/tuf/root',
    summary: 'Publish the next root, signed offline by a threshold of root keys',
    description: 'Version 1 first, then each next version signed by a threshold of the current root’s keys and its own (docs/tuf.md).',
    access: 'admin',
    body: rootUploadSchema,
    responses: { 200: { description: 'Accepted; the online roles re-signed with the keys it names', schema: rootAcceptedSchema } },
    problems: {
      409: 'The root is not the next version (tuf.root_version)',
      422: 'Malformed, short of its threshold of signatures, expired, wrongly shaped, or naming an online key this control plane does not hold (tuf.root_malformed, tuf.root_threshold, tuf.root_expired, tuf.root_shape, tuf.online_key_unknown)',
      503: 'This control plane serves no TUF repository (tuf.unavailable)',
    },
  },
]);
