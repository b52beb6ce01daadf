import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { HttpProblem } from './problem.js';

/**
 * Path parameters are checked before anything reads the store: against the id's own schema
 * where it has one, else as a safe segment. Nothing a client puts in a path (U+0000, a control
 * character, bytes that are not UTF-8) reaches a handler or PostgreSQL as a 500.
 */
export function badParameter(field: string, message: string): HttpProblem {
  return badParameters([{ field, message }]);
}

function badParameters(errors: { field: string; message: string }[]): HttpProblem {
  return new HttpProblem(400, 'request.bad_parameter', 'A path or query parameter is not valid', {
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
}

/** One path segment of unreserved URL characters: what every Berth id is made of, whatever its finer rules. */
export const SAFE_SEGMENT = /^[A-Za-z0-9._~-]{1,253}$/;

export type ParamCheck = RegExp | z.ZodType<string>;

/** The path parameter `name`, or a 400 naming it when it fails `check`. */
export function pathParam(c: Context, name: string, check: ParamCheck = SAFE_SEGMENT): string {
  const value = c.req.param(name);
  if (typeof value !== 'string' || !passes(value, check)) throw badParameter(name, value ? 'not a valid value here' : 'missing');
  return value;
}

/** The query string read by `schema` (each parameter once), or a 400 naming every parameter that fails. */
export function queryOf<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (result.success) return result.data;
  throw badParameters(result.error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : 'query', message: i.message })));
}

function passes(value: string, check: ParamCheck): boolean {
  return check instanceof RegExp ? check.test(value) : check.safeParse(value).success;
}

/** A percent-escape of a C0 control character or DEL: never part of a Berth path. */
const ESCAPED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/**
 * For every route, present and future: a path whose escapes decode to a control character or to
 * bytes that are not well-formed UTF-8 (an encoded lone surrogate, a cut sequence) is a 400
 * before routing. Hono would otherwise hand such a parameter to the handler raw or decoded to
 * U+0000.
 */
export const refuseUnsafePaths: MiddlewareHandler = async (c, next) => {
  const raw = rawPath(c.req.url);
  if (ESCAPED_CONTROL.test(raw) || !decodes(raw)) {
    throw new HttpProblem(400, 'request.bad_path', 'The request path is not valid', {
      detail: 'the path holds a control character or an escape that is not UTF-8',
    });
  }
  await next();
};

function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const end = url.search(/[?#]/);
  return url.slice(start, end === -1 ? undefined : end);
}

function decodes(path: string): boolean {
  if (!path.includes('%')) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
