import { REVOCATION_MEDIA_TYPE } from '../../trust/revocation/document.js';
import { deviceIdentitySchema, issuedIdentitySchema, renewalRequestSchema } from '../../wire/onboarding.js';
import { apiGroup } from '../openapi/operation.js';

/** What identityRoutes (identity-routes.ts) serves under /api/v1/identity, for the OpenAPI document. */
export const identityApi = apiGroup('Identity', [
  {
    method: 'get',
    path: '/revocations',
    summary: 'The signed revocation list (for relying parties)',
    description: 'Every CRL in it is signed by a fleet CA; send If-None-Match with the ETag to revalidate (docs/workload-identity.md).',
    access: 'public',
    responses: {
      200: {
        description: 'The CRLs, PEM',
        contentType: REVOCATION_MEDIA_TYPE,
        bodyDescription: 'PEM X509 CRL blocks, one per fleet CA',
        headers: { etag: 'The list’s version', 'x-berth-crl-number': 'The CRL number', 'x-berth-next-update': 'When the next list is due' },
      },
      304: { description: 'Unchanged since the ETag sent' },
    },
    problems: { 503: 'No revocation list yet (revocations.not_ready)' },
  },
  {
    method: 'get',
    path: '/',
    summary: 'Who the calling device is',
    access: 'device',
    responses: {
      200: {
        description: 'The device’s identity',
        schema: deviceIdentitySchema,
      },
    },
  },
  {
    method: 'post',
    path: '/renew',
    summary: 'Renew the device’s certificate with a new key',
    access: 'device',
    body: renewalRequestSchema,
    responses: { 201: { description: 'The new certificate', schema: issuedIdentitySchema } },
    problems: { 422: 'The CSR names another device or reuses the key (csr.*, renewal.same_key)' },
  },
]);
