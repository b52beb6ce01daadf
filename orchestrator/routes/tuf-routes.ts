import { Hono, type Context } from 'hono';
import { rootUploadSchema } from '../../wire/tuf-admin.js';
import type { ControlPlaneDeps } from '../app.js';
import { emptyBody, readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { actorOf, requireOperator, roles } from '../http/operator-auth.js';
import { pathParam } from '../http/path-params.js';
import { HttpProblem } from '../http/problem.js';
import { securityEvent } from '../../common/logger.js';
import type { TufRepository } from '../tuf/repository.js';

/** A root with a few dozen keys is a few KiB; this leaves room without inviting a flood. */
const ROOT_BODY_LIMIT = 64 * 1024;

function repository(deps: ControlPlaneDeps): TufRepository {
  if (!deps.tuf) throw new HttpProblem(503, 'tuf.unavailable', 'This control plane serves no TUF repository');
  return deps.tuf;
}

/** What a TUF client asks for: `timestamp.json`, or a numbered root, snapshot or targets. */
export const TUF_METADATA_NAME = /^(?:timestamp|[1-9]\d{0,8}\.(?:root|snapshot|targets))\.json$/;
/** A target's served path, `<dir>/<sha256>.<name>`, in the characters Berth's target paths use. */
export const TUF_TARGET_PATH = /^(?:[A-Za-z0-9._-]{1,128}\/){0,4}[0-9a-f]{64}\.[A-Za-z0-9._-]{1,128}$/;

const notFound = (what: string) => new HttpProblem(404, 'tuf.not_found', 'No such TUF file', { detail: `${what} is not in this repository` });

/**
 * The fleet's TUF repository over HTTP (docs/tuf.md). Public: every file is signed metadata or a
 * file whose hash signed metadata lists, so the channel needs to vouch for nothing.
 */
export function tufRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/metadata/:name', async (c) => {
    const name = pathParam(c, 'name', TUF_METADATA_NAME);
    const body = await repository(deps).metadata(name);
    if (body === undefined) throw notFound(name);
    // Numbered files never change; timestamp.json is the one a client must always fetch afresh.
    return serve(c, body, 'application/json', name === 'timestamp.json' ? 'no-cache' : 'public, max-age=31536000, immutable');
  });
  app.get('/targets/:path{.+}', async (c) => {
    const path = pathParam(c, 'path', TUF_TARGET_PATH);
    const body = await repository(deps).target(path);
    if (body === undefined) throw notFound(path);
    return serve(c, body, 'application/octet-stream', 'public, max-age=31536000, immutable');
  });
  return app;
}

function serve(c: Context<AppEnv>, body: string, type: string, cache: string): Response {
  return c.body(body, 200, { 'content-type': type, 'cache-control': cache });
}

/** Admins only: the offline root ceremony's two steps (docs/tuf.md), and a look at what is served. */
export function tufAdminRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/tuf', requireOperator(deps, roles.operator), async (c) => c.json(await repository(deps).status()));
  app.post('/tuf/online-keys', requireOperator(deps, roles.admin), async (c) => {
    await readJson(c, emptyBody);
    const set = await repository(deps).newOnlineKeys();
    securityEvent(deps.logger, 'tuf.online_keys_created', { keyids: Object.values(set.keys).map((k) => k.keyid), by: actorOf(c.get('operator')) });
    return c.json(set, 201);
  });
  app.put('/tuf/root', requireOperator(deps, roles.admin), async (c) => {
    const body = await readJson(c, rootUploadSchema, ROOT_BODY_LIMIT);
    const accepted = await repository(deps).importRoot(body);
    securityEvent(deps.logger, 'tuf.root_accepted', { version: accepted.version, published: accepted.published, by: actorOf(c.get('operator')) });
    return c.json(accepted);
  });
  return app;
}
