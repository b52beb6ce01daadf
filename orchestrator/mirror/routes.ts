import { Hono, type MiddlewareHandler } from 'hono';
import { DistributionError, type DistributionCode } from '../../oci/server/errors.js';
import { errorResponse, registryApp } from '../../oci/server/routes.js';
import type { RegistryStorage } from '../../oci/server/storage.js';
import type { ControlPlaneDeps, RouteModule } from '../app.js';
import { requireDevice } from '../http/device-auth.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';

/**
 * The mirror's pull endpoints under `/v2/` on the device mTLS server: read-only, and behind the
 * same device check as every Margo device route (a revoked, superseded or unknown certificate is
 * refused on every request). Refusals are distribution-spec error bodies, since the caller is
 * an OCI client; the problem code is kept in the message.
 */
export function mirrorRoutes(storage: RegistryStorage): RouteModule {
  return (deps: ControlPlaneDeps) => {
    const app = new Hono<AppEnv>();
    const auth = asDistributionRefusal(requireDevice(deps));
    app.use('/v2', auth);
    app.use('/v2/*', auth);
    // Which device fetched which artifact: manifests only (blobs follow from them).
    app.use('/v2/*', async (c, next) => {
      await next();
      if (c.req.method === 'GET' && c.res.status === 200 && c.req.path.includes('/manifests/')) {
        deps.logger.info({ deviceId: c.get('device').deviceId, path: c.req.path.slice(0, 400) }, 'mirror: manifest served to device');
      }
    });
    app.route('/', registryApp({ storage, readOnly: true, logger: deps.logger }));
    return app;
  };
}

/** Runs the device check alone (not the handlers after it) and answers its refusals as OCI errors. */
function asDistributionRefusal(check: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let passed = false;
    try {
      await check(c, async () => {
        passed = true;
      });
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err;
      const code: DistributionCode = err.status === 401 ? 'UNAUTHORIZED' : 'DENIED';
      return errorResponse(c, new DistributionError(err.status, code, `${err.code}: ${err.message}`));
    }
    if (passed) await next();
  };
}
