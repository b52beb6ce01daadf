import type { Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import type { Progress } from './client.js';
import { header, statusError, type HttpRequest, type HttpResponse } from './transport.js';

type Send = (req: HttpRequest) => Promise<HttpResponse>;

/**
 * One upload session (distribution spec "pushing blobs"): POST to open it, then either one PUT
 * with the whole blob (monolithic) or PATCH chunks with Content-Range followed by a closing PUT
 * with the digest. Every Location the registry hands out must stay on the registry's origin.
 */
export async function uploadSession(
  send: Send,
  base: string,
  repository: string,
  bytes: Uint8Array,
  digest: Digest,
  chunkBytes: number,
  onProgress?: Progress,
): Promise<void> {
  const what = `upload of blob ${digest}`;
  const start = await send({ method: 'POST', url: `${base}/v2/${repository}/blobs/uploads/`, maxBytes: 64 * 1024, what, retry: false });
  if (start.status !== 202) throw statusError({ what, url: base }, start);
  let location = nextLocation(start, base, what);

  if (bytes.byteLength > chunkBytes) {
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      const end = Math.min(offset + chunkBytes, bytes.byteLength);
      const chunk: HttpRequest = {
        method: 'PATCH',
        url: location.toString(),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}` },
        body: bytes.subarray(offset, end),
        maxBytes: 64 * 1024,
        what: `${what} (bytes ${offset}-${end - 1})`,
        retry: false,
      };
      if (onProgress) chunk.onSent = (sent) => onProgress(offset + sent, bytes.byteLength);
      const res = await send(chunk);
      if (res.status !== 202) throw statusError({ what: chunk.what, url: base }, res);
      location = nextLocation(res, base, what);
    }
  }

  location.searchParams.set('digest', digest);
  const monolithic = bytes.byteLength <= chunkBytes;
  const close: HttpRequest = {
    method: 'PUT',
    url: location.toString(),
    headers: { 'content-type': 'application/octet-stream' },
    ...(monolithic ? { body: bytes } : {}),
    maxBytes: 64 * 1024,
    what,
    retry: false,
  };
  if (onProgress && monolithic) close.onSent = onProgress;
  const done = await send(close);
  if (done.status !== 201) throw statusError({ what, url: base }, done);
}

function nextLocation(res: HttpResponse, base: string, what: string): URL {
  const location = header(res, 'location');
  if (!location) throw new BerthError('oci.bad-response', `registry answered the ${what} without a Location`);
  const url = new URL(location, base);
  if (url.origin !== base) throw new BerthError('oci.bad-response', `registry sent the ${what} to another origin (${url.origin}); refused`);
  return url;
}
