import { issueDeviceCertificate } from '../../trust/authority.js';
import type { VerifiedCsr } from '../../trust/csr.js';
import { deviceSpiffeId } from '../../trust/spiffe.js';
import { certificateToPem, fingerprintOf, parseCertificates } from '../../trust/x509.js';
import type { IssuedIdentity } from '../../wire/onboarding.js';
import * as certificates from '../store/certificates.js';
import type { DeviceCertificateRecord } from '../store/certificates.js';
import type { Queryable } from '../store/store.js';
import type { FleetAuthority } from './fleet-authority.js';

/** Issues a device certificate for the CSR's key and records it, in the caller's transaction. */
export async function issueAndRecord(
  tx: Queryable,
  authority: FleetAuthority,
  deviceId: string,
  csr: VerifiedCsr,
  lifetimeMs: number,
): Promise<DeviceCertificateRecord> {
  const issuer = authority.issuer();
  const cert = await issueDeviceCertificate(issuer, authority.trustDomain, deviceId, csr.publicKey, { lifetimeMs });
  const record: Omit<DeviceCertificateRecord, 'state'> = {
    fingerprint: fingerprintOf(cert),
    deviceId,
    serial: cert.serialNumber,
    publicKeySha256: csr.publicKeySha256,
    issuerFingerprint: fingerprintOf(issuer.certificate),
    certificatePem: certificateToPem(cert),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
  await certificates.insertCertificate(tx, record);
  return { ...record, state: 'active' };
}

/** The answer a device gets with a certificate: the leaf, the intermediate above it, where the bundle is. */
export function issuedIdentity(authority: FleetAuthority, record: DeviceCertificateRecord, trustBundleUri: string): IssuedIdentity {
  return {
    status: 'issued',
    deviceId: record.deviceId,
    spiffeId: deviceSpiffeId(authority.trustDomain, record.deviceId),
    certificate: record.certificatePem,
    chain: authority.chainFor(record.issuerFingerprint),
    notAfter: parseCertificates(record.certificatePem)[0]!.notAfter.toISOString(),
    trustBundleUri,
  };
}
