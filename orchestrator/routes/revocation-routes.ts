import { Hono } from 'hono';
import { REVOCATION_MEDIA_TYPE } from '../../trust/revocation/document.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';
import { readRevocationList } from '../revocations/list-store.js';
import type { Queryable } from '../store/store.js';

export const REVOCATIONS_PATH = '/api/v1/identity/revocations';
/** Relying parties revalidate this often; with the ETag, an unchanged list costs a 304. */
const MAX_AGE_SECONDS = 60;

/**
 * The signed revocation list (docs/workload-identity.md). Public: relying parties are not
 * devices, and every CRL in it is signed by a fleet CA, so it needs no transport to vouch for it.
 */
export function revocationRoutes(deps: { store: Queryable }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const list = await readRevocationList(deps.store);
    if (!list.document || !list.etag)
      throw new HttpProblem(503, 'revocations.not_ready', 'No revocation list yet', {
        detail: 'the control plane has not issued its first revocation list yet',
        retryAfterSeconds: 5,
      });
    const headers = {
      etag: list.etag,
      'cache-control': `public, max-age=${MAX_AGE_SECONDS}`,
      'x-berth-crl-number': String(list.number),
      ...(list.nextUpdate ? { 'x-berth-next-update': list.nextUpdate.toISOString() } : {}),
    };
    if (etagMatches(c.req.header('if-none-match'), list.etag)) return c.body(null, 304, headers);
    return c.body(list.document, 200, { ...headers, 'content-type': REVOCATION_MEDIA_TYPE });
  });
  return app;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}
