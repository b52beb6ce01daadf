import { Hono, type Context } from 'hono';
import { DESIRED_STATE_SIGNATURE_HEADER } from '../../trust/desired-state/statement.js';
import { MANIFEST_MEDIA_TYPE } from '../../wire/margo/common.js';
import type { DesiredStateService } from '../desired-state/service.js';
import type { AppEnv } from '../http/env.js';
import { etagOf, matchesEtag } from '../http/etag.js';
import { HttpProblem } from '../http/problem.js';
import type { StoredManifest } from '../store/desired-state.js';
import { deploymentIdParam, digestParam, waitParam } from './device-params.js';

/** Longest long-poll, seconds: under common proxy idle timeouts. */
export const MAX_WAIT_SECONDS = 60;
const IMMUTABLE = 'private, max-age=31536000, immutable';

/** Whether an Accept header admits the Margo manifest media type (absent admits everything). */
export function acceptsManifest(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === MANIFEST_MEDIA_TYPE || type === 'application/*' || type === '*/*';
  });
}

async function manifestAnswer(c: Context<AppEnv>, svc: DesiredStateService, m: StoredManifest, notModified: boolean): Promise<Response> {
  const device = c.get('device');
  const headers: Record<string, string> = {
    etag: etagOf(m.digest),
    'cache-control': 'private',
    vary: 'Accept',
    [DESIRED_STATE_SIGNATURE_HEADER]: await svc.signature(m, device.certificateFingerprint),
  };
  if (notModified) return c.body(null, 304, headers);
  return c.body(new Uint8Array(m.bytes), 200, { ...headers, 'content-type': MANIFEST_MEDIA_TYPE });
}

/** Margo's desired-state endpoints for the calling device (mounted behind requireDevice). */
export function deviceDeploymentsRoutes(svc: DesiredStateService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/deployments', async (c) => {
    const deviceId = c.get('device').deviceId;
    if (!acceptsManifest(c.req.header('accept'))) {
      throw new HttpProblem(406, 'request.not_acceptable', 'The manifest is served only as ' + MANIFEST_MEDIA_TYPE, {
        detail: `Accept: ${c.req.header('accept')}`,
      });
    }
    const wait = waitParam(c.req.query('wait'), MAX_WAIT_SECONDS);
    const ifNoneMatch = c.req.header('if-none-match');
    // Park before reading, so a change committed between the read and the wait still wakes us.
    const parkedUntil = new AbortController();
    const parked = wait > 0 && ifNoneMatch ? svc.waitForChange(deviceId, wait * 1000, AbortSignal.any([parkedUntil.signal, c.req.raw.signal])) : undefined;
    let m = await svc.manifest(deviceId);
    if (parked && matchesEtag(ifNoneMatch, m.digest)) {
      await parked;
      m = await svc.manifest(deviceId);
    }
    parkedUntil.abort();
    return manifestAnswer(c, svc, m, matchesEtag(ifNoneMatch, m.digest));
  });

  app.get('/deployments/:deploymentId/:digest', async (c) => {
    const deploymentId = deploymentIdParam(c.req.param('deploymentId'));
    const digest = digestParam(c.req.param('digest'));
    const doc = await svc.document(c.get('device').deviceId, digest);
    if (!doc || doc.deploymentId !== deploymentId)
      throw new HttpProblem(404, 'deployment.digest_unknown', 'No such deployment document', {
        detail: `${deploymentId}@${digest} is not available to this device`,
      });
    return c.body(new Uint8Array(doc.bytes), 200, { 'content-type': doc.mediaType, 'cache-control': IMMUTABLE, etag: etagOf(digest) });
  });

  app.get('/bundles/:digest', async (c) => {
    const digest = digestParam(c.req.param('digest'));
    // Content-addressed, but only for a device whose manifests named it: others get 404.
    const doc = await svc.document(c.get('device').deviceId, digest);
    if (!doc || doc.deploymentId !== null)
      throw new HttpProblem(404, 'bundle.unknown', 'No such bundle', { detail: `${digest} is not available to this device` });
    if (matchesEtag(c.req.header('if-none-match'), digest)) return c.body(null, 304, { etag: etagOf(digest), 'cache-control': IMMUTABLE });
    return c.body(new Uint8Array(doc.bytes), 200, { 'content-type': doc.mediaType, 'cache-control': IMMUTABLE, etag: etagOf(digest) });
  });

  // The public half of the desired-state signing key, for agents to pin (docs/desired-state.md).
  app.get('/desired-state/keys', (c) => c.json(svc.publicJwks, 200, { 'cache-control': 'no-store' }));
  return app;
}
