import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BerthError } from '../../common/errors.js';
import { PROBLEM_CONTENT_TYPE, problemType, type BackoffStrategy, type FieldError, type Problem } from '../../wire/problem.js';

export interface ProblemExtras {
  detail?: string;
  retryable?: boolean;
  retryAfterSeconds?: number;
  backoffStrategy?: BackoffStrategy;
  errors?: FieldError[];
}

/** An HTTP answer that is a problem document. Throw it from handlers and plain functions alike. */
export class HttpProblem extends BerthError {
  constructor(
    readonly status: ContentfulStatusCode,
    code: string,
    readonly title: string,
    readonly extras: ProblemExtras = {},
  ) {
    super(code, extras.detail ?? title);
    this.name = 'HttpProblem';
  }

  toProblem(instance?: string): Problem {
    const p: Problem = { type: problemType(this.code), title: this.title, status: this.status, code: this.code };
    if (this.extras.detail !== undefined) p.detail = this.extras.detail;
    if (instance) p.instance = instance;
    p.retryable = this.extras.retryable ?? (this.status === 429 || this.status === 503);
    if (this.extras.retryAfterSeconds !== undefined) p.retryAfterSeconds = this.extras.retryAfterSeconds;
    if (this.extras.backoffStrategy !== undefined) p.backoffStrategy = this.extras.backoffStrategy;
    if (this.extras.errors) p.errors = this.extras.errors;
    return p;
  }
}

export function problemResponse(c: Context, problem: HttpProblem): Response {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' };
  if (problem.extras.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.extras.retryAfterSeconds);
  return c.body(JSON.stringify(problem.toProblem(c.req.path)), problem.status, headers);
}

/**
 * How BerthErrors raised by plain functions (CSR checks, chain checks, ...) become HTTP answers:
 * by code prefix. Anything not listed is a 400; a thrown non-Berth error is a 500 (a bug).
 */
const statusByPrefix: [string, ContentfulStatusCode, string][] = [
  ['csr.', 422, 'The certificate signing request was refused'],
  ['chain.', 403, 'The certificate chain is not trusted'],
  ['pki.', 409, 'The fleet CA refused the change'],
  ['trust.bad_device_id', 422, 'The device id is not valid'],
  ['key.', 422, 'The key was refused'],
  ['tuf.root_version', 409, 'The root does not follow the current one'],
  ['tuf.', 422, 'The TUF metadata was refused'],
];

export function toHttpProblem(err: BerthError): HttpProblem {
  if (err instanceof HttpProblem) return err;
  for (const [prefix, status, title] of statusByPrefix) {
    if (err.code.startsWith(prefix)) {
      const field = prefix === 'csr.' ? 'csr' : undefined;
      return new HttpProblem(status, err.code, title, {
        detail: err.message,
        ...(status === 422 ? { errors: [{ field: field ?? 'body', message: err.message }] } : {}),
      });
    }
  }
  return new HttpProblem(400, err.code, 'The request was refused', { detail: err.message });
}

/** 422 with Margo's `errors[]`, one entry per field. */
export function validationProblem(errors: FieldError[], code = 'request.invalid'): HttpProblem {
  return new HttpProblem(422, code, 'The request body is not valid', { detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });
}
