import { Hono, type Context } from 'hono';
import { silentLogger, type Logger } from '../../common/logger.js';
import { isClientFault } from '../../common/client-fault.js';
import { DistributionError, refuse } from './errors.js';
import { continueUpload, getBlob, getManifest, listReferrers, listTags, putManifest, startUpload, type RegistryContext } from './handlers.js';
import type { RegistryStorage } from './storage.js';
import { Uploads } from './uploads.js';

export interface RegistryAppOptions {
  storage: RegistryStorage;
  /** Pull endpoints only; every write answers 405 UNSUPPORTED without reading the body. */
  readOnly?: boolean;
  /** Largest blob accepted by upload (default 512 MiB). */
  maxBlobBytes?: number;
  /** Upload sessions open at once (default 64). */
  maxUploadSessions?: number;
  /** An upload session untouched this long is dropped (default 1 h). */
  uploadTtlMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_BLOB_BYTES = 512 * 1024 * 1024;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Handler = (c: Context, ctx: RegistryContext, name: string, arg: string) => Promise<Response>;

/**
 * The endpoints, as (path pattern, methods) pairs. A repository name may contain `/`, so the
 * name is everything before the last `/manifests/`, `/blobs/`, ... (tags, digests and upload
 * ids cannot contain `/`, which makes the split unambiguous).
 */
const ENDPOINTS: { pattern: RegExp; methods: Partial<Record<Method, Handler>> }[] = [
  { pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: (c, ctx, name) => listTags(c, ctx, name) } },
  { pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads(?:\/([^/]*))?$/,
    methods: {
      POST: (c, ctx, name, id) =>
        id ? Promise.reject(refuse.uploadInvalid('POST opens a session; continue it with PATCH or PUT')) : startUpload(c, ctx, name),
      PATCH: continueUpload,
      PUT: continueUpload,
      GET: continueUpload,
      DELETE: continueUpload,
    },
  },
  { pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob } },
  { pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, PUT: putManifest } },
];

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A small OCI distribution-spec 1.1 server (docs/mirror.md lists the subset): pull, push,
 * tags, referrers. Every refusal is `{errors:[{code,message}]}` with the spec's code.
 */
export function registryApp(options: RegistryAppOptions): Hono {
  const logger = options.logger ?? silentLogger;
  const ctx: RegistryContext = { storage: options.storage };
  if (!options.readOnly) {
    ctx.uploads = new Uploads(options.storage, {
      maxBlobBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
      maxSessions: options.maxUploadSessions ?? 64,
      ttlMs: options.uploadTtlMs ?? 3_600_000,
    });
  }
  const app = new Hono();
  const dispatch = async (c: Context): Promise<Response> => {
    const method = c.req.raw.method as Method;
    const path = new URL(c.req.url).pathname;
    const head = { 'docker-distribution-api-version': 'registry/2.0' };
    if (path === '/v2' || path === '/v2/') {
      if (method !== 'GET' && method !== 'HEAD') throw new DistributionError(405, 'UNSUPPORTED', `${method} is not allowed on /v2/`);
      return c.json({}, 200, head);
    }
    for (const endpoint of ENDPOINTS) {
      const m = endpoint.pattern.exec(path);
      if (!m) continue;
      if (options.readOnly && WRITES.has(method)) throw refuse.readOnly();
      const handler = endpoint.methods[method === 'HEAD' ? 'GET' : method];
      if (!handler) throw new DistributionError(405, 'UNSUPPORTED', `${method} is not allowed on this endpoint`);
      const res = await handler(c, ctx, m[1]!, m[2] ?? '');
      res.headers.set('docker-distribution-api-version', 'registry/2.0');
      return res;
    }
    throw new DistributionError(404, 'UNSUPPORTED', `${method} ${path.slice(0, 200)} is not an endpoint of this registry`);
  };
  app.all('/v2', dispatch);
  app.all('/v2/*', dispatch);
  app.notFound((c) => errorResponse(c, new DistributionError(404, 'UNSUPPORTED', `${c.req.path.slice(0, 200)} is not an endpoint of this registry`)));
  app.onError((err, c) => {
    if (err instanceof DistributionError) return errorResponse(c, err);
    if (isClientFault(err, c.req.raw)) {
      logger.debug({ err, path: c.req.path, method: c.req.method }, 'registry request failed on the client side');
      return errorResponse(
        c,
        new DistributionError(400, 'BLOB_UPLOAD_INVALID', 'the request body could not be read: the client closed the connection or its framing is not valid'),
      );
    }
    logger.error({ err, path: c.req.path, method: c.req.method }, 'registry request failed');
    return errorResponse(c, new DistributionError(500, 'UNKNOWN', 'the registry failed; the error is logged'));
  });
  return app;
}

export function errorResponse(c: Context, err: DistributionError): Response {
  return c.json(err.body(), err.status, { 'docker-distribution-api-version': 'registry/2.0' });
}
