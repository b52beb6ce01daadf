import { X509Certificate } from 'node:crypto';
import { BerthError } from '../../common/errors.js';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { importPrivateKeyPem, parseCertificates } from '../../trust/x509.js';
import type { DeviceIdentity } from './identity-files.js';

/** The trust domain named by the device certificate's SPIFFE ID (`spiffe://<td>/device/<id>`). */
export function trustDomainOf(identity: DeviceIdentity): string {
  const san = new X509Certificate(identity.certificatePem).subjectAltName ?? '';
  const match = /URI:spiffe:\/\/([^/,\s]+)\/device\//.exec(san);
  if (!match) throw new BerthError('agent.bad_certificate', `the device certificate carries no SPIFFE device id (${san || 'no SAN'})`);
  return match[1]!;
}

/** What workload tokens are signed with: the device key and certificate chain (docs/workload-identity.md). */
export async function deviceSigner(identity: DeviceIdentity): Promise<DeviceSigner> {
  const { privateKey } = await importPrivateKeyPem(identity.keyPem);
  return { trustDomain: trustDomainOf(identity), deviceId: identity.deviceId, privateKey, chain: parseCertificates(identity.certificatePem) };
}
