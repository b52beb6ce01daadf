import { request, type Agent } from 'node:https';
import { Readable } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
// Not re-exported by the package, but what its updater tests with instanceof to read a 404 as "no newer root".
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

export interface TufFetcherOptions {
  /** PEM of the CA(s) the repository's TLS certificate chains to: transport only, never trust in the metadata. */
  ca: string | string[];
  /** A device's client certificate and key, where the repository sits behind mutual TLS. */
  cert?: string;
  key?: string;
  timeoutMs?: number;
  /** A keep-alive agent (with the same ca, cert and key) for a client that asks every round. */
  agent?: Agent;
}

/**
 * tuf-js's fetcher over Node's HTTPS with the fleet's CA (tuf-js's own uses the system's CAs).
 * A non-200 answer is a DownloadHTTPError with its status, which tuf-js needs to see a 404 as
 * "no newer root". Lengths are bounded by tuf-js as it reads.
 */
export class HttpsTufFetcher extends BaseFetcher {
  constructor(private readonly options: TufFetcherOptions) {
    super();
  }

  fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const { ca, cert, key, agent, timeoutMs = 10_000 } = this.options;
    return new Promise((resolve, reject) => {
      const req = request(url, { ca, cert, key, minVersion: 'TLSv1.3', timeout: timeoutMs, ...(agent ? { agent } : {}) }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new DownloadHTTPError(`${url}: HTTP ${res.statusCode}`, res.statusCode ?? 0));
        }
        resolve(Readable.toWeb(res) as ReadableStream<Uint8Array<ArrayBuffer>>);
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
