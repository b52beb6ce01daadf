import { z } from 'zod';
import { DEVICE_STATUSES } from './fleet.js';

/**
 * The operator API's device answers (GET /api/v1/admin/devices, POST …/device-revocations,
 * orchestrator/routes/admin-api.ts): declared here because `berth devices` reads them too.
 */

/** A device as the store records it (store/devices.ts DeviceRecord as JSON: dates as ISO 8601). */
export const deviceShown = z.object({
  id: z.string(),
  status: z.enum(DEVICE_STATUSES),
  labels: z.record(z.string(), z.string()),
  onboardingMethod: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  revokedReason: z.string().nullable(),
});
export type DeviceShown = z.output<typeof deviceShown>;
export const devicesListed = z.object({ devices: z.array(deviceShown) });
export type DevicesListed = z.output<typeof devicesListed>;

export const deviceRevoked = z.object({ deviceId: z.string(), status: z.literal('revoked'), certificatesRevoked: z.number().int() });
export type DeviceRevoked = z.output<typeof deviceRevoked>;
