import { Hono } from 'hono';
import type { z } from 'zod';
import type { wellKnownMargoSchema } from '../../wire/onboarding.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import type { AppEnv } from '../http/env.js';
import { publicLink, type PublicUrlDeps } from '../http/public-url.js';

export const TRUST_BUNDLE_PATH = '/api/v1/trust-bundle';

/** Margo's trust bootstrap: where the bundle is, and the bundle. Public: it holds only CA certificates. */
export function trustRoutes(deps: PublicUrlDeps & { authority: FleetAuthority }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { authority } = deps;
  app.get('/.well-known/margo', (c) =>
    c.json({ trustDomain: authority.trustDomain, trustBundleUri: publicLink(deps, TRUST_BUNDLE_PATH) } satisfies z.output<typeof wellKnownMargoSchema>, 200, {
      'cache-control': 'no-cache',
    }),
  );
  app.get(TRUST_BUNDLE_PATH, async (c) => c.json(await authority.bundle(), 200, { 'cache-control': 'no-cache' }));
  return app;
}
