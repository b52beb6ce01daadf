import { apiGroup } from '../openapi/operation.js';

/**
 * What mirrorRoutes (routes.ts) serves: the OCI distribution pull endpoints, read-only, for
 * devices over mutual TLS. The registry dispatches every `/v2/*` path itself (one Hono route),
 * so the operations a device uses are listed here by hand; refusals are OCI error bodies.
 */
const OCI_ERRORS = { contentType: 'application/json', description: 'An OCI distribution error body: `{ errors: [{ code, message, detail? }] }`' };

/** The writes an OCI client tries first, each refused: the mirror is filled by admission only. */
const READ_ONLY = {
  405: {
    description: 'Refused: the mirror is read-only (UNSUPPORTED), whatever the body',
    contentType: OCI_ERRORS.contentType,
    bodyDescription: OCI_ERRORS.description,
  },
};
const refusedWrite = (method: 'post' | 'put' | 'delete', path: string, summary: string) =>
  ({ method, path, summary, access: 'device', errors: OCI_ERRORS, responses: READ_ONLY }) as const;

export const mirrorApi = apiGroup('Mirror (OCI)', [
  {
    method: 'get',
    path: '/v2/',
    summary: 'OCI distribution API version check',
    access: 'device',
    errors: OCI_ERRORS,
    responses: { 200: { description: 'This is an OCI distribution registry', bodyDescription: 'An empty object' } },
  },
  {
    method: 'get',
    path: '/v2/:name{.+}/manifests/:reference',
    summary: 'Pull an artifact’s manifest',
    access: 'device',
    params: { reference: /^[A-Za-z0-9_.:-]{1,128}$/ },
    errors: OCI_ERRORS,
    responses: { 200: { description: 'The manifest, in its own media type', contentType: 'application/vnd.oci.image.manifest.v1+json' } },
    problems: { 404: 'No such repository or manifest in the mirror (NAME_UNKNOWN, MANIFEST_UNKNOWN): it holds only admitted artifacts' },
  },
  {
    method: 'get',
    path: '/v2/:name{.+}/blobs/:digest',
    summary: 'Pull a blob',
    access: 'device',
    params: { digest: /^sha256:[0-9a-f]{64}$/ },
    errors: OCI_ERRORS,
    responses: { 200: { description: 'The blob', contentType: 'application/octet-stream' } },
    problems: { 404: 'No such repository or blob in the mirror (NAME_UNKNOWN, BLOB_UNKNOWN)' },
  },
  refusedWrite('post', '/v2/:name{.+}/blobs/uploads/', 'Start a blob upload (refused: read-only)'),
  refusedWrite('put', '/v2/:name{.+}/manifests/:reference', 'Push a manifest (refused: read-only)'),
  refusedWrite('delete', '/v2/:name{.+}/manifests/:reference', 'Delete a manifest (refused: read-only)'),
  refusedWrite('delete', '/v2/:name{.+}/blobs/:digest', 'Delete a blob (refused: read-only)'),
]);
