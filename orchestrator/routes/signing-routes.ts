import { createPublicKey } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { securityEvent } from '../../common/logger.js';
import { verifyCsr } from '../../trust/csr.js';
import type { FleetSigning } from '../../trust/signing/fleet-signing.js';
import type { ControlPlaneDeps } from '../app.js';
import { vendorOfRole } from '../catalog/access.js';
import { readBody, readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator } from '../http/operator-auth.js';
import { HttpProblem } from '../http/problem.js';
import { rateLimit, type RateLimit } from '../http/rate-limit.js';
import { truncateText } from '../../common/text.js';
import { signingCertificateAnswer } from '../../wire/signing.js';

/**
 * The fleet's signing services over HTTP (docs/signing.md "Against a control plane"): the RFC
 * 3161 timestamp authority (public, like any TSA: a token says only "these bytes existed
 * then"), the fleet signing roots (public: verifiers need them), and short-lived code-signing
 * certificates for vendors (vendor token; the identity is the token's vendor, never the CSR's).
 */
export const MAX_TIMESTAMP_QUERY_BYTES = 4096;
export const SIGNING_CERTIFICATE_LIFETIME_MS = 10 * 60_000;
/** Each token costs a signature with the TSA key: one address cannot take it from everyone else. */
export const DEFAULT_TIMESTAMP_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };

/** The identity a vendor's signing certificates carry: its role as a URI in the fleet's trust domain. */
export const vendorSigningIdentity = (trustDomain: string, vendor: string): string => `spiffe://${trustDomain}/vendor/${vendor}`;

export const certificateBody = z.strictObject({ csr: z.string().max(8192) });
/** What GET /signing/roots answers (signing-api.ts describes it; POST /signing/certificates's answer is in wire/signing.ts). */
export const signingRootsAnswer = z.object({ signingCas: z.array(z.string()), timestampAuthorities: z.array(z.array(z.string())) });

export function signingRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  if (!deps.fleetSigning) return app;
  // Read at each request: a rotation (here or picked up from another replica) replaces it.
  const signing = (): FleetSigning => deps.fleetSigning!;
  const asVendor = requireOperator(deps, (role) => vendorOfRole(role) !== undefined);

  app.post(
    '/timestamp',
    rateLimit(deps.timestampRateLimit ?? DEFAULT_TIMESTAMP_RATE_LIMIT, 'timestamp'),
    bodyLimit({
      maxSize: MAX_TIMESTAMP_QUERY_BYTES,
      onError: () => {
        throw new HttpProblem(413, 'request.too_large', 'The timestamp query is too large', {
          detail: `a TimeStampReq is at most ${MAX_TIMESTAMP_QUERY_BYTES} bytes here`,
        });
      },
    }),
    async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/timestamp-query') {
        throw new HttpProblem(415, 'request.unsupported_media_type', 'The body must be application/timestamp-query', {
          detail: `content type '${truncateText(type, 100)}' is not a timestamp query`,
        });
      }
      const query = await readBody(c, MAX_TIMESTAMP_QUERY_BYTES);
      // A malformed query still gets a DER answer (status rejection, naming why), as RFC 3161 asks.
      const reply = signing().tsa.respond(query);
      return c.body(new Uint8Array(reply), 200, { 'content-type': 'application/timestamp-reply', 'cache-control': 'no-store' });
    },
  );

  // Exactly the two members `signingRootsDigest` covers: devices check this document against the
  // digest signed into their desired state before they pin it.
  app.get('/signing/roots', (c) => {
    const { signingCas, timestampAuthorities } = signing().roots;
    return c.json({ signingCas, timestampAuthorities } satisfies z.output<typeof signingRootsAnswer>);
  });

  app.post('/signing/certificates', asVendor, async (c) => {
    const vendor = vendorOfRole(c.get('operator').role)!;
    const body = await readJson(c, certificateBody, 16 * 1024);
    const csr = await verifyCsr(body.csr);
    const identity = vendorSigningIdentity(deps.authority.trustDomain, vendor);
    const issuer = deps.publicUrl;
    if (!issuer) throw new HttpProblem(503, 'signing.unavailable', 'The control plane does not know its own URL yet');
    const ca = signing().ca;
    const certificate = await ca.issue({
      publicKey: createPublicKey({ key: Buffer.from(csr.request.publicKey.rawData), format: 'der', type: 'spki' }),
      subject: identity,
      issuer,
      validityMs: SIGNING_CERTIFICATE_LIFETIME_MS,
    });
    securityEvent(deps.logger, 'signing.certificate_issued', { vendor, identity, key: csr.publicKeySha256, token: c.get('operator').tokenId });
    return c.json(
      { certificate, chain: [ca.certPem], identity, issuer, validForSeconds: SIGNING_CERTIFICATE_LIFETIME_MS / 1000 } satisfies z.output<
        typeof signingCertificateAnswer
      >,
      201,
    );
  });
  return app;
}
