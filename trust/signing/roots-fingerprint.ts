import { createHash, X509Certificate } from 'node:crypto';

/** hex SHA-256 of a PEM certificate's DER: how operators name a signing CA or TSA certificate. */
export function fingerprintOfPem(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
