import { BerthError, errorMessage } from '../../common/errors.js';
import { x509 } from '../x509.js';

/**
 * The published revocation document: PEM text holding, for every issuing CA the fleet trusts,
 * that CA's certificate followed by the CRL it signed. The CA certificate is there so a relying
 * party holding only the trust bundle (roots) can check each CRL's signer without asking
 * anyone; `openssl verify -CRLfile` reads the same file (it skips the certificates).
 */
export interface IssuedCrl {
  issuer: x509.X509Certificate;
  crl: x509.X509Crl;
}

export const REVOCATION_MEDIA_TYPE = 'application/x-pem-file';
export const MAX_DOCUMENT_LENGTH = 4 * 1024 * 1024;
const MAX_BLOCKS = 64;

/** RFC 7468's label, which OpenSSL expects (the library's own default is "CRL"). */
const CRL_LABEL = 'X509 CRL';

export function formatRevocationDocument(issued: readonly IssuedCrl[]): string {
  return issued.map(({ issuer, crl }) => `${issuer.toString('pem')}\n${x509.PemConverter.encode(crl.rawData, CRL_LABEL)}\n`).join('');
}

function malformed(message: string): never {
  throw new BerthError('revocations.malformed', `revocation list refused: ${message}`);
}

export function parseRevocationDocument(text: string): { certificates: x509.X509Certificate[]; crls: x509.X509Crl[] } {
  if (typeof text !== 'string' || text.length > MAX_DOCUMENT_LENGTH) malformed(`not PEM text of at most ${MAX_DOCUMENT_LENGTH} characters`);
  let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch (err) {
    malformed(`unreadable PEM (${errorMessage(err)})`);
  }
  if (blocks.length > MAX_BLOCKS) malformed(`more than ${MAX_BLOCKS} PEM blocks`);
  const certificates: x509.X509Certificate[] = [];
  const crls: x509.X509Crl[] = [];
  for (const block of blocks) {
    try {
      if (block.type === x509.PemConverter.CertificateTag) certificates.push(new x509.X509Certificate(block.rawData));
      else if (block.type === CRL_LABEL || block.type === x509.PemConverter.CrlTag) crls.push(new x509.X509Crl(block.rawData));
      else malformed(`unexpected PEM block "${block.type}" (only CERTIFICATE and X509 CRL belong here)`);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      malformed(`a ${block.type} block does not parse (${errorMessage(err)})`);
    }
  }
  if (crls.length === 0) malformed('it holds no X509 CRL');
  return { certificates, crls };
}
