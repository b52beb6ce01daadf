import { DistributionError, refuse } from './errors.js';

/** Content-Length as a number; absent is undefined, anything but a plain integer is refused. */
export function contentLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new DistributionError(400, 'SIZE_INVALID', `Content-Length '${value.slice(0, 30)}' is not a byte count`);
  return Number(value.trim());
}

/** A whole request body in memory (manifests), refusing more than `limit` bytes as it arrives. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, declared: number | undefined, limit: number, what: string): Promise<Buffer> {
  if (declared !== undefined && declared > limit) throw refuse.tooLarge(what, limit);
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw refuse.tooLarge(what, limit);
    }
    chunks.push(value);
  }
  if (declared !== undefined && size !== declared)
    throw new DistributionError(400, 'SIZE_INVALID', `the body has ${size} bytes; Content-Length announced ${declared}`);
  return Buffer.concat(chunks);
}
