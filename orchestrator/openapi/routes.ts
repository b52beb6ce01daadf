import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { berthPackageJson } from '../../common/paths.js';
import type { AppEnv } from '../http/env.js';
import { etagOf, matchesEtag } from '../http/etag.js';
import { openApiDocument } from './document.js';
import { apiGroup, type ApiOperation } from './operation.js';
import { REFERENCE_PAGE_CSP, REFERENCE_PAGE_HTML } from './reference-page.js';

/** The document as served: its bytes and their ETag. */
interface Served {
  json: string;
  hash: string;
}

/** Built once per process (on first request) for each source of operations. */
const built = new WeakMap<() => readonly ApiOperation[], Served>();

function served(operations: () => readonly ApiOperation[]): Served {
  let s = built.get(operations);
  if (!s) {
    const json = JSON.stringify(openApiDocument(operations(), { version: berthPackageJson().version }));
    s = { json, hash: createHash('sha256').update(json).digest('base64url') };
    built.set(operations, s);
  }
  return s;
}

/** The document changes only with the control plane's version: caches revalidate with the ETag. */
const CACHE_CONTROL = 'public, max-age=300';

/** GET /openapi.json and the reference page GET /docs, both public (docs/openapi.md). */
export function openApiRoutes(operations: () => readonly ApiOperation[]) {
  return (): Hono<AppEnv> => {
    const app = new Hono<AppEnv>();
    app.get('/openapi.json', (c) => {
      const { json, hash } = served(operations);
      const headers = { etag: etagOf(hash), 'cache-control': CACHE_CONTROL };
      if (matchesEtag(c.req.header('if-none-match'), hash)) return c.body(null, 304, headers);
      return c.body(json, 200, { ...headers, 'content-type': 'application/json' });
    });
    app.get('/docs', (c) =>
      c.html(REFERENCE_PAGE_HTML, 200, {
        'content-security-policy': REFERENCE_PAGE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': CACHE_CONTROL,
      }),
    );
    return app;
  };
}

export const openApiApi = apiGroup('API description', [
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document: the control plane’s API in OpenAPI 3.1',
    access: 'public',
    responses: {
      200: { description: 'The OpenAPI document', bodyDescription: 'An OpenAPI 3.1 document', headers: { etag: 'Changes when the document does' } },
      304: { description: 'Unchanged (If-None-Match)' },
    },
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'The API reference page, rendered from openapi.json',
    access: 'public',
    responses: { 200: { description: 'An HTML page (its script renders the operations by tag)', contentType: 'text/html' } },
  },
]);
