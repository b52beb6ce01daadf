import { apiGroup, type ApiOperation } from '../openapi/operation.js';
import { signingCertificateAnswer } from '../../wire/signing.js';
import { certificateBody, signingRootsAnswer } from './signing-routes.js';

/** What signingRoutes (signing-routes.ts) serves under /api/v1, for the OpenAPI document. */

/** signingRoutes serves nothing without a fleet signing service: said on each operation. */
const ONLY_WITH_FLEET_SIGNING = 'Served when the control plane runs fleet signing (docs/signing.md).';

const operations: ApiOperation[] = [
  {
    method: 'post',
    path: '/timestamp',
    summary: 'RFC 3161 timestamp authority',
    description: 'A malformed query still gets a DER answer with a rejection status, as RFC 3161 asks. Rate-limited per client address.',
    access: 'public',
    body: { contentType: 'application/timestamp-query', description: 'A DER TimeStampReq' },
    responses: { 200: { description: 'A DER TimeStampResp', contentType: 'application/timestamp-reply' } },
    problems: {
      413: 'The query is too large (request.too_large)',
      415: 'The body is not application/timestamp-query (request.unsupported_media_type)',
      429: 'Too many timestamp requests from this address (request.rate_limited)',
    },
  },
  {
    method: 'get',
    path: '/signing/roots',
    summary: 'The fleet signing roots (signing CAs and timestamp authorities)',
    description: 'Exactly the members the `signingRootsDigest` of a device’s signed desired state covers.',
    access: 'public',
    responses: {
      200: {
        description: 'The roots, PEM',
        schema: signingRootsAnswer,
      },
    },
  },
  {
    method: 'post',
    path: '/signing/certificates',
    summary: 'A short-lived code-signing certificate for the calling vendor',
    description: 'The identity is the token’s vendor, never the CSR’s (docs/signing.md).',
    access: 'vendor',
    body: certificateBody,
    responses: {
      201: {
        description: 'The certificate and its chain',
        schema: signingCertificateAnswer,
      },
    },
    problems: { 422: 'The CSR is not valid (csr.*)' },
  },
];

export const signingApi = apiGroup(
  'Signing',
  operations.map((o) => ({ ...o, description: [o.description, ONLY_WITH_FLEET_SIGNING].filter(Boolean).join(' ') })),
);
