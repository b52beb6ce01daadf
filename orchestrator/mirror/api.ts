import { apiGroup } from '../openapi/operation.js';

/**
 * What mirrorRoutes (routes.ts) serves: the OCI distribution pull endpoints, read-only, for
 * devices over mutual TLS. The registry dispatches every `/v2/*` path itself (one Hono route),
 * so the operations a device uses are listed here by hand; refusals are OCI error bodies.
 */
const OCI_ERRORS = { contentType: 'application/json', description: 'An OCI distribution error body: `{ errors: [{ code, message, detail? }] }`' };

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
  },
  {
    method: 'get',
    path: '/v2/:name{.+}/blobs/:digest',
    summary: 'Pull a blob',
    access: 'device',
    params: { digest: /^sha256:[0-9a-f]{64}$/ },
    errors: OCI_ERRORS,
    responses: { 200: { description: 'The blob', contentType: 'application/octet-stream' } },
  },
]);
