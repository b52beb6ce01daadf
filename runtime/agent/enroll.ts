import { webcrypto } from 'node:crypto';
import { BerthError } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { ECDSA_SHA256, generateP256, importPrivateKeyPem, privateKeyToPem, x509, type CryptoKeyPair } from '../../trust/x509.js';
import { FACTORY_SIGNING_PREFIX, type IssuedIdentity, type OnboardingRequest, type PendingOnboarding } from '../../wire/onboarding.js';
import { trustDomainOf } from './device-signer.js';
import { failure, httpsJson, type DeviceTls } from './https.js';
import { saveIdentity, type DeviceIdentity } from './identity-files.js';
import { refreshTrustBundle } from './trust-bundle.js';

/** How the device proves it may join: an enrollment token, or its factory (IDevID) certificate and key. */
export type EnrollmentCredential =
  { kind: 'token'; token: string } | { kind: 'factory-certificate'; certificatesPem: string[]; keyPem: string; macAddresses?: string[] };

export interface EnrollOptions {
  /** Control-plane base URL, e.g. https://cp.example:8443 */
  url: string;
  /** Fleet root(s) provisioned on the device: the server must chain to one (no trust on first use). */
  ca: string | string[];
  credential: EnrollmentCredential;
  /** Where key and certificate are kept (created 0700, files 0600). */
  dir: string;
  /** Ask for this device id (as a SPIFFE URI SAN in the CSR); the server decides. */
  deviceId?: string;
  trustDomain?: string;
  /** Give up waiting for approval after this long (ms). */
  maxWaitMs?: number;
  logger?: Logger;
  /** For tests: how to wait (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

export async function createCsr(keys: CryptoKeyPair, san?: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=berth device',
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: san ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: san }])] : [],
  });
  return csr.toString('pem');
}

/** The factory key's signature over the CSR: proves the IDevID key is held now and binds it to the new key. */
export async function signWithFactoryKey(factoryKeyPem: string, csrPem: string): Promise<string> {
  const { privateKey } = await importPrivateKeyPem(factoryKeyPem);
  const der = x509.PemConverter.decode(csrPem)[0]!;
  const signed = Buffer.concat([Buffer.from(FACTORY_SIGNING_PREFIX, 'utf8'), Buffer.from(der)]);
  return Buffer.from(await webcrypto.subtle.sign(ECDSA_SHA256, privateKey, signed)).toString('base64url');
}

/**
 * Onboards the device: generates its key, sends a CSR with the credential, and while the
 * answer is "pending" asks again after the server's Retry-After, until approved, denied or
 * `maxWaitMs` passes. Stores the key and certificate on success.
 */
export async function enroll(options: EnrollOptions): Promise<DeviceIdentity> {
  const logger = options.logger ?? silentLogger;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const keys = await generateP256();
  const san = options.deviceId && options.trustDomain ? `spiffe://${options.trustDomain}/device/${options.deviceId}` : undefined;
  const csr = await createCsr(keys, san);
  const body: OnboardingRequest =
    options.credential.kind === 'token'
      ? { method: 'token', csr, token: options.credential.token }
      : {
          method: 'factory-certificate',
          csr,
          factoryCertificates: options.credential.certificatesPem,
          signature: await signWithFactoryKey(options.credential.keyPem, csr),
          ...(options.credential.macAddresses ? { macAddresses: options.credential.macAddresses } : {}),
        };
  // A device that knows its trust domain accepts only that domain's control plane.
  const tls: DeviceTls = { ca: options.ca, ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}) };
  let answer = await httpsJson(new URL('/api/v1/onboarding', options.url).href, tls, 'POST', body);
  const deadline = Date.now() + (options.maxWaitMs ?? 24 * 3600_000);
  while (answer.status === 202) {
    const pending = answer.body as PendingOnboarding;
    const waitSeconds = retryAfter(answer.headers['retry-after'], pending.retryAfterSeconds);
    if (Date.now() + waitSeconds * 1000 > deadline)
      throw new BerthError('agent.approval_timeout', `onboarding request ${pending.requestId} still pending; gave up waiting`);
    logger.info({ requestId: pending.requestId, waitSeconds }, 'onboarding pending operator approval');
    await sleep(waitSeconds * 1000);
    answer = await httpsJson(pending.pollUri, tls, 'GET');
  }
  if (answer.status !== 200 && answer.status !== 201) {
    if (answer.status === 403 || answer.status === 409)
      securityEvent(logger, 'agent.onboarding_refused', { status: answer.status, code: answer.problem?.code });
    throw failure(answer, 'onboarding');
  }
  const issued = answer.body as IssuedIdentity;
  const identity = await storeIssued(options.dir, keys, issued);
  await refreshTrustBundle({ url: options.url, ca: options.ca, dir: options.dir, logger, trustDomain: trustDomainOf(identity) });
  return identity;
}

export async function storeIssued(dir: string, keys: CryptoKeyPair, issued: IssuedIdentity): Promise<DeviceIdentity> {
  const leaf = new x509.X509Certificate(issued.certificate);
  const identity: DeviceIdentity = {
    deviceId: issued.deviceId,
    keyPem: await privateKeyToPem(keys.privateKey),
    certificatePem: [issued.certificate, ...issued.chain].map((p) => p.trim() + '\n').join(''),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
  };
  await saveIdentity(dir, identity);
  return identity;
}

/** Seconds to wait: the Retry-After header (delta-seconds) or the problem's member, within sane bounds. */
export function retryAfter(header: string | string[] | undefined, fallback?: number): number {
  const raw = Array.isArray(header) ? header[0] : header;
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : (fallback ?? 5);
  return Math.min(Math.max(n, 1), 3600);
}
