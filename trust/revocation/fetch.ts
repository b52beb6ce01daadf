import { get } from 'node:https';
import { rootCertificates } from 'node:tls';
import { BerthError, errorMessage } from '../../common/errors.js';
import { MAX_DOCUMENT_LENGTH } from './document.js';

export interface FetchOptions {
  /** Extra CA certificates (PEM) to trust for the server: the fleet roots, for a control plane. */
  ca?: readonly string[];
  timeoutMs?: number;
}

function failed(url: string, why: string): never {
  throw new BerthError('revocations.fetch_failed', `could not fetch the revocation list from ${url}: ${why}`);
}

/**
 * Fetches a revocation document over HTTPS only: the CRLs are signed, but a plain-HTTP answer
 * could be an older list replayed to hide a revocation, and one fetch has nothing to compare with.
 */
export function fetchRevocationDocument(url: string, options: FetchOptions = {}): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    failed(url, 'not a URL');
  }
  if (target.protocol !== 'https:') failed(url, 'only https:// URLs are accepted');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = get(target, { ca: [...rootCertificates, ...(options.ca ?? [])], timeout: timeoutMs, headers: { accept: 'application/x-pem-file' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new BerthError('revocations.fetch_failed', `could not fetch the revocation list from ${url}: HTTP ${res.statusCode}`));
      }
      let length = 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MAX_DOCUMENT_LENGTH) {
          req.destroy();
          reject(new BerthError('revocations.fetch_failed', `could not fetch the revocation list from ${url}: larger than ${MAX_DOCUMENT_LENGTH} bytes`));
        } else chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => reject(new BerthError('revocations.fetch_failed', `could not fetch the revocation list from ${url}: ${errorMessage(err)}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new BerthError('revocations.fetch_failed', `could not fetch the revocation list from ${url}: ${errorMessage(err)}`)));
  });
}
