import type { Context } from 'hono';
import { routePath } from 'hono/route';
import { z } from 'zod';
import { HttpProblem, validationProblem } from './problem.js';

/** The body of an action that takes no input: `{}`, so that a body meant for another endpoint is refused. */
export const emptyBody = z.strictObject({});

/** Default largest request body: onboarding and renewal bodies are a few KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Reads a JSON body and validates it at the edge: wrong content type → 415, too large → 413,
 * not JSON → 400, not the schema → 422 naming each field. Handlers see only valid input.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, limit = DEFAULT_BODY_LIMIT): Promise<z.infer<S>> {
  bodySchemas.set(`${c.req.method} ${routePath(c)}`, schema);
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpProblem(415, 'request.unsupported_media_type', 'The request body must be application/json', {
      detail: type ? `content type '${type}' is not accepted; send application/json` : 'the request has no content type; send application/json',
    });
  }
  const bytes = await readBody(c, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new HttpProblem(400, 'request.bad_json', 'The request body is not valid JSON', { detail: err instanceof Error ? err.message : String(err) });
  }
  // PostgreSQL cannot store U+0000 in text or jsonb: refused here, for every endpoint, rather
  // than failing later as a 500.
  const nul = findNul(parsed, []);
  if (nul === TOO_DEEP) throw validationProblem([{ field: 'body', message: `must not nest deeper than ${MAX_DEPTH} levels` }]);
  if (nul) throw validationProblem([{ field: nul.length ? nul.join('.') : 'body', message: 'must not contain U+0000 (NUL)' }]);
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw validationProblem(result.error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : 'body', message: i.message })));
  }
  return result.data;
}

/**
 * The schema each route reads its body with, keyed `METHOD /route/:pattern`, as requests reach
 * readJson: the fuzz benchmark (bench/fuzz-*.ts) generates bodies from it for routes it was
 * never told about. Bounded by the number of routes.
 */
export const bodySchemas = new Map<string, z.ZodType>();

const MAX_DEPTH = 64;
const TOO_DEEP: (string | number)[] = [];

/** The path to the first string or key holding U+0000, TOO_DEEP past MAX_DEPTH, or undefined. */
function findNul(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (path.length > MAX_DEPTH) return TOO_DEEP;
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return [...path, k.replace(/\u0000/g, '\\u0000')];
      const found = findNul(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'request.too_large', 'The request body is too large', { detail: `the body exceeds ${limit} bytes` });
}

/**
 * The body stream failed: the client cut it short, closed the connection, or framed it wrongly
 * (a bad chunk size, fewer bytes than its Content-Length). The client's fault, so a 400 and no
 * error-level log line (docs/trust.md "Errors").
 */
function unreadable(err: unknown): HttpProblem {
  return new HttpProblem(400, 'request.body_unreadable', 'The request body could not be read', {
    detail: `the body was cut short or its framing is not valid (${err instanceof Error ? err.message : String(err)})`,
  });
}

/** The raw body, at most `limit` bytes: 413 past it, 400 when the client's bytes cannot be read. */
export async function readBody(c: Context, limit = DEFAULT_BODY_LIMIT): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  return readLimited(c.req.raw, limit);
}

/** Reads at most `limit` bytes, stopping early (chunked bodies carry no Content-Length). */
async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((err: unknown) => {
      throw unreadable(err);
    });
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
