import { z } from 'zod';
import { wellKnownMargoSchema } from '../../wire/onboarding.js';
import { apiGroup } from '../openapi/operation.js';
import { TRUST_BUNDLE_PATH } from './trust-routes.js';

/** What trustRoutes (trust-routes.ts) serves, for the OpenAPI document. */

/** A SPIFFE trust bundle (trust/bundle.ts): the fleet's CA certificates as JWKs. */
const spiffeBundleSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.string(),
      crv: z.string().optional(),
      x: z.string().optional(),
      y: z.string().optional(),
      use: z.literal('x509-svid'),
      x5c: z.array(z.string()),
    }),
  ),
  spiffe_sequence: z.number().int(),
  spiffe_refresh_hint: z.number().int(),
});

export const trustApi = apiGroup('Trust', [
  {
    method: 'get',
    path: '/.well-known/margo',
    summary: 'Where the trust bundle is (Margo trust bootstrap)',
    access: 'public',
    responses: { 200: { description: 'The trust domain and the bundle’s URI', schema: wellKnownMargoSchema } },
  },
  {
    method: 'get',
    path: TRUST_BUNDLE_PATH,
    summary: 'The fleet’s trust bundle (CA certificates)',
    access: 'public',
    responses: { 200: { description: 'A SPIFFE bundle', schema: spiffeBundleSchema } },
  },
]);
