import { x509 } from '../x509.js';

/**
 * What a certificate is being accepted for. Each purpose says which key usage and extended key
 * usage the end certificate must carry, so a certificate issued for one job cannot do another
 * (a code-signing certificate cannot authenticate a device, a device certificate cannot sign
 * components). docs/trust.md "Certificate path validation" lists them.
 */
export type CertificatePurpose =
  /** A device's mTLS client certificate (fleet CA). */
  | 'device-tls-client'
  /** The control plane's TLS server certificate (fleet CA). */
  | 'tls-server'
  /** The device certificate that signs a workload token (fleet CA): the device identity. */
  | 'workload-token'
  /** A short-lived Sigstore signing certificate (fleet signing CA). */
  | 'code-signing'
  /** An RFC 3161 timestamp authority's signing certificate. */
  | 'timestamping'
  /** A CA certificate that signs a revocation list (CRL). */
  | 'crl-signing'
  /** A manufacturer-issued device certificate (IEEE 802.1AR IDevID) shown at factory onboarding. */
  | 'factory-identity';

export const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

export interface PurposeRule {
  /** The end certificate needs at least one of these key usage bits. */
  keyUsageAnyOf: number;
  /** The extended key usage the end certificate must name (undefined: none required). */
  extendedKeyUsage: string | undefined;
  /**
   * Certificates Berth issues itself must say what they are for: key usage and extended key
   * usage present. A third party's (a manufacturer's) may leave them out, which RFC 5280 reads
   * as "any purpose".
   */
  explicit: boolean;
  /** RFC 3161 §2.3: the timeStamping extended key usage is critical and the only one. */
  criticalSoleExtendedKeyUsage?: boolean;
  /** A CRL signer is a CA; every other end certificate must not be one. */
  endIsCa: boolean;
}

const F = x509.KeyUsageFlags;
const E = x509.ExtendedKeyUsage;

export const PURPOSES: Readonly<Record<CertificatePurpose, PurposeRule>> = {
  'device-tls-client': { keyUsageAnyOf: F.digitalSignature, extendedKeyUsage: E.clientAuth, explicit: true, endIsCa: false },
  'tls-server': { keyUsageAnyOf: F.digitalSignature, extendedKeyUsage: E.serverAuth, explicit: true, endIsCa: false },
  'workload-token': { keyUsageAnyOf: F.digitalSignature, extendedKeyUsage: E.clientAuth, explicit: true, endIsCa: false },
  'code-signing': { keyUsageAnyOf: F.digitalSignature, extendedKeyUsage: E.codeSigning, explicit: true, endIsCa: false },
  timestamping: {
    keyUsageAnyOf: F.digitalSignature | F.nonRepudiation,
    extendedKeyUsage: E.timeStamping,
    explicit: true,
    criticalSoleExtendedKeyUsage: true,
    endIsCa: false,
  },
  'crl-signing': { keyUsageAnyOf: F.cRLSign, extendedKeyUsage: undefined, explicit: false, endIsCa: true },
  'factory-identity': { keyUsageAnyOf: F.digitalSignature, extendedKeyUsage: E.clientAuth, explicit: false, endIsCa: false },
};
