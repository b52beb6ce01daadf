import type { Context } from 'hono';
import type { z } from 'zod';
import { HttpProblem, validationProblem } from './problem.js';

/** Default largest request body: onboarding and renewal bodies are a few KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Reads a JSON body and validates it at the edge: wrong content type → 415, too large → 413,
 * not JSON → 400, not the schema → 422 naming each field. Handlers see only valid input.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, limit = DEFAULT_BODY_LIMIT): Promise<z.infer<S>> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpProblem(415, 'request.unsupported_media_type', 'The request body must be application/json', {
      detail: type ? `content type '${type}' is not accepted; send application/json` : 'the request has no content type; send application/json',
    });
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const bytes = await readLimited(c.req.raw, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new HttpProblem(400, 'request.bad_json', 'The request body is not valid JSON', { detail: err instanceof Error ? err.message : String(err) });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw validationProblem(result.error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : 'body', message: i.message })));
  }
  return result.data;
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'request.too_large', 'The request body is too large', { detail: `the body exceeds ${limit} bytes` });
}

/** Reads at most `limit` bytes, stopping early (chunked bodies carry no Content-Length). */
async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
