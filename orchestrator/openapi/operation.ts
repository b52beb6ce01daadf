import type { z } from 'zod';
import type { ParamCheck } from '../http/path-params.js';

/**
 * What a route declares about itself for the OpenAPI document (docs/openapi.md). Each route
 * group keeps these in a `*-api.ts` file beside its handlers and points at the very zod schemas
 * the handlers read with, so the document cannot describe a body or query the handler does not
 * check. test/orchestrator/openapi.test.ts fails for a served route without one.
 */
export type HttpMethod = 'get' | 'put' | 'post' | 'delete';

/**
 * Who may call an operation: nobody in particular, a device over mutual TLS, or an operator
 * bearer token whose role passes the route's check (http/operator-auth.ts, catalog/access.ts).
 */
export type Access = 'public' | 'device' | 'admin' | 'operator' | 'catalog-reader' | 'catalog-writer' | 'vendor';

export interface ApiResponse {
  description: string;
  /** The body's schema, where Berth declares one; without it the body is described in words only. */
  schema?: z.ZodType;
  /** Default application/json when there is a schema or a `bodyDescription`. */
  contentType?: string;
  /** A body that has no zod schema yet: what it is, honestly (docs/openapi.md "Not yet precise"). */
  bodyDescription?: string;
  /** Further media types the same answer may come in (by a query parameter), each with what it is. */
  otherContent?: Record<string, string>;
  /** Response headers worth knowing, by name: what each says. */
  headers?: Record<string, string>;
}

export interface ApiOperation {
  method: HttpMethod;
  /** The path as Hono spells it, relative to the route group until mounted ('/apps/:id'). */
  path: string;
  summary: string;
  description?: string;
  access: Access;
  /** Filled in by `apiGroup`: the reference page groups operations by it. */
  tag?: string;
  /** Each path parameter's check, as the handler passes it to pathParam; the default is SAFE_SEGMENT. */
  params?: Record<string, ParamCheck>;
  /** The object schema the handler reads its query string with (queryOf). */
  query?: z.ZodType;
  /** The schema the handler reads its JSON body with (readJson), or a non-JSON body's media type. */
  body?: z.ZodType | { contentType: string; description: string };
  /** The answers when it works. */
  responses: Record<number, ApiResponse>;
  /** Refusals this operation raises itself, by status; the generator adds those of auth, parameters and body. */
  problems?: Record<number, string>;
  /** Refusals in another format than problem documents (the OCI mirror's error bodies). */
  errors?: { contentType: string; description: string };
}

/** A route group's operations, tagged for the reference page. */
export function apiGroup(tag: string, operations: readonly ApiOperation[]): ApiOperation[] {
  return operations.map((o) => ({ ...o, tag: o.tag ?? tag }));
}

/** The operations of a group mounted under `prefix`, as Hono joins the paths (`/x` + `/` is `/x`). */
export function mountApi(prefix: string, operations: readonly ApiOperation[]): ApiOperation[] {
  return operations.map((o) => ({ ...o, path: joinPath(prefix, o.path) }));
}

function joinPath(prefix: string, path: string): string {
  const base = prefix.replace(/\/+$/, '');
  if (path === '/' || path === '') return base || '/';
  return `${base}${path}`;
}
