import { Hono } from 'hono';
import { deviceCapabilitiesSchema } from '../../wire/margo/capabilities.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import * as capabilities from '../store/capabilities.js';
import { rescheduleDevice } from '../scheduling/scheduler.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import type { ControlPlaneDeps } from '../app.js';
import { deviceIdParam } from './device-params.js';

/**
 * The caller may name only itself. Another client's id is answered 403 whether that device
 * exists or not, so the answer says nothing about it; an id below the caller (a device behind a
 * gateway) is 404: Berth registers no child devices (docs/margo.md).
 */
export function ownDeviceId(callerId: string, requested: string): string {
  if (requested === callerId) return requested;
  if (requested.startsWith(`${callerId}/`))
    throw new HttpProblem(404, 'device.unknown_child', 'No such device behind this gateway', { detail: `'${requested}' is not registered` });
  throw new HttpProblem(403, 'device.not_caller', 'A device reports only for itself', {
    detail: 'the device id in the path is not the calling device',
    retryable: false,
  });
}

const changed = (deps: ControlPlaneDeps): DesiredStateChanged => deps.desiredStateChanged ?? (async () => {});

/** Margo `PUT/DELETE /api/v1/capabilities/{deviceId}`. */
export function deviceCapabilitiesRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.put('/:deviceId{.+}', async (c) => {
    const deviceId = ownDeviceId(c.get('device').deviceId, deviceIdParam(c.req.param('deviceId')));
    const manifest = await readJson(c, deviceCapabilitiesSchema, 256 * 1024);
    if (manifest.properties.id !== deviceId)
      throw validationProblem([{ field: 'properties.id', message: `must be the device id in the path ('${deviceId}')` }]);
    // What the device can run changed: its placements are recomputed in the same transaction.
    const created = await deps.store.transaction(async (tx) => {
      const first = await capabilities.putCapabilities(tx, deviceId, manifest);
      await rescheduleDevice(tx, deviceId, changed(deps));
      return first;
    });
    deps.logger.info({ deviceId, created }, 'device capabilities reported');
    return c.body(null, created ? 201 : 200, { 'cache-control': 'no-store' });
  });
  app.delete('/:deviceId{.+}', async (c) => {
    const deviceId = ownDeviceId(c.get('device').deviceId, deviceIdParam(c.req.param('deviceId')));
    const removed = await deps.store.transaction(async (tx) => {
      const had = await capabilities.deleteCapabilities(tx, deviceId);
      if (had) await rescheduleDevice(tx, deviceId, changed(deps));
      return had;
    });
    if (!removed) throw new HttpProblem(404, 'device.no_capabilities', 'The device has no capabilities registered');
    deps.logger.info({ deviceId }, 'device capabilities removed');
    return c.body(null, 204);
  });
  return app;
}
