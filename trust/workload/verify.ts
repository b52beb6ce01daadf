import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { uriSans } from '../authority.js';
import { validatePath } from '../path/validate.js';
import { deviceIdFromSpiffeId } from '../spiffe.js';
import { fingerprintOf, x509 } from '../x509.js';
import { parseWorkloadSpiffeId } from './spiffe-id.js';

/**
 * Whether a device certificate still counts, e.g. a `RevocationList` (trust/revocation/) of CRLs
 * the control plane signed. Throws a BerthError whose code says why not (`token.revoked`,
 * `revocations.expired`, ...); the token is refused with that code.
 */
export interface RevocationCheck {
  check(certificate: x509.X509Certificate, deviceId: string, now: Date): void | Promise<void>;
}

export interface VerifyOptions {
  /** The fleet's trust anchors (the SPIFFE bundle's CA certificates). */
  roots: readonly x509.X509Certificate[];
  trustDomain: string;
  audience: string;
  now?: Date;
  clockToleranceSeconds?: number;
  revocations?: RevocationCheck;
}

export interface VerifiedWorkload {
  spiffeId: string;
  deviceId: string;
  vendor: string;
  app: string;
  instance: string | undefined;
  audience: string;
  expiresAt: Date;
  certificateFingerprint: string;
}

const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_CHAIN = 4;

function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw new BerthError(code, `workload token refused: ${message}`, details);
}

/**
 * Verifies a workload token offline: the x5c chain to the fleet's roots, the device certificate
 * naming one device, the signature by that certificate's key, the subject being a workload on
 * that same device, the audience, the time, and (when given) revocation. Each failure has its
 * own code.
 */
export async function verifyWorkloadToken(token: string, options: VerifyOptions): Promise<VerifiedWorkload> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) refuse('token.malformed', 'not a compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    refuse('token.malformed', `unreadable header (${errorMessage(err)})`);
  }
  if (header.alg !== 'ES256') refuse('token.bad_algorithm', `algorithm ${String(header.alg)} is not ES256`);
  if (!Array.isArray(header.x5c) || header.x5c.length < 1 || header.x5c.length > MAX_CHAIN)
    refuse('token.no_chain', 'the x5c certificate chain is missing or too long');
  let chain: x509.X509Certificate[];
  try {
    chain = header.x5c.map((der) => new x509.X509Certificate(Buffer.from(der, 'base64')));
  } catch (err) {
    refuse('token.bad_chain', `a certificate in x5c does not parse (${errorMessage(err)})`);
  }
  const [leaf, ...intermediates] = chain;
  const now = options.now ?? new Date();
  try {
    // A device certificate signs tokens: a code-signing or server certificate from a fleet CA,
    // or a leaf issued by a device certificate, is refused here (docs/trust.md).
    validatePath({ leaf: leaf!, intermediates, anchors: options.roots, purpose: 'workload-token', at: now });
  } catch (err) {
    refuse('token.untrusted_chain', errorMessage(err), { reason: errorCode(err, 'chain.untrusted') });
  }
  const sans = uriSans(leaf!);
  const deviceId = sans.length === 1 ? deviceIdFromSpiffeId(options.trustDomain, sans[0]!) : undefined;
  if (!deviceId) refuse('token.not_a_device', 'the signing certificate is not a device certificate of this trust domain');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, await leaf!.publicKey.export(), {
      algorithms: ['ES256'],
      audience: options.audience,
      issuer: sans[0],
      currentDate: now,
      clockTolerance: options.clockToleranceSeconds ?? 30,
      requiredClaims: ['sub', 'exp', 'iat'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) refuse('token.expired', 'it has expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') refuse('token.audience', `it is not for audience "${options.audience}"`);
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) refuse('token.bad_signature', 'the signature does not match the device certificate');
    refuse('token.invalid', errorMessage(err));
  }
  const workload = parseWorkloadSpiffeId(String(payload.sub));
  if (!workload || workload.trustDomain !== options.trustDomain || workload.deviceId !== deviceId) {
    refuse('token.subject_mismatch', `subject ${String(payload.sub)} is not a workload of device ${deviceId}`);
  }
  if (options.revocations) {
    try {
      await options.revocations.check(leaf!, deviceId, now);
    } catch (err) {
      if (err instanceof BerthError) refuse(err.code, err.message);
      throw err;
    }
  }
  const fingerprint = fingerprintOf(leaf!);
  return {
    spiffeId: String(payload.sub),
    deviceId,
    vendor: workload.vendor,
    app: workload.app,
    instance: typeof payload['berth:instance'] === 'string' ? payload['berth:instance'] : undefined,
    audience: options.audience,
    expiresAt: new Date((payload.exp ?? 0) * 1000),
    certificateFingerprint: fingerprint,
  };
}
