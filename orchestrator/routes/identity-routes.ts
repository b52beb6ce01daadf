import { Hono } from 'hono';
import { renewalRequestSchema, type DeviceIdentity } from '../../wire/onboarding.js';
import { readJson } from '../http/body.js';
import { requireDevice, type DeviceAuthDeps } from '../http/device-auth.js';
import type { AppEnv } from '../http/env.js';
import { publicLink, type PublicUrlDeps } from '../http/public-url.js';
import { renew, type LifecycleDeps } from '../devices/lifecycle.js';
import { issuedIdentity } from '../pki/issuance.js';
import { REVOCATIONS_PATH, revocationRoutes } from './revocation-routes.js';
import { TRUST_BUNDLE_PATH } from './trust-routes.js';

/** The device's own identity, over mTLS: who am I, and renew me. Plus the public revocation list. */
export function identityRoutes(deps: LifecycleDeps & DeviceAuthDeps & PublicUrlDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const deviceOnly = requireDevice(deps);
  app.use('/', deviceOnly);
  // The revocation list is for relying parties, which are not devices: the one public path here.
  app.use('/*', (c, next) => (c.req.path === REVOCATIONS_PATH ? next() : deviceOnly(c, next)));
  app.route('/revocations', revocationRoutes(deps));
  app.get('/', (c) => {
    const d = c.get('device');
    const identity: DeviceIdentity = {
      deviceId: d.deviceId,
      spiffeId: d.spiffeId,
      notAfter: d.notAfter.toISOString(),
      bundleSequence: deps.authority.bundleSequence,
    };
    return c.json(identity);
  });
  app.post('/renew', async (c) => {
    const body = await readJson(c, renewalRequestSchema);
    const cert = await renew(deps, c.get('device'), body.csr);
    return c.json(issuedIdentity(deps.authority, cert, publicLink(deps, TRUST_BUNDLE_PATH)), 201, { 'cache-control': 'no-store' });
  });
  return app;
}
