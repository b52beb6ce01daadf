import { z } from 'zod';
import { DEVICE_DEPLOYMENT_STATES } from './deployment.js';

/**
 * GET /api/v1/admin/fleet: every device with what the store knows of it, nothing derived
 * (orchestrator/store/fleet.ts, as JSON: dates as ISO 8601). The console's fleet and device
 * pages read it (console/src/types.ts takes its types only).
 */

export const DEVICE_STATUSES = ['pending', 'active', 'denied', 'revoked'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** One app on a device, as the device last reported it. */
export const fleetAppSchema = z.object({
  deploymentId: z.string(),
  appId: z.string(),
  /** The version the device last reported on, which during a rollout may differ from the one placed. */
  version: z.string(),
  state: z.enum(DEVICE_DEPLOYMENT_STATES),
  /** What the device reported of the app's resource use with that report (docs/accounting.md), if anything. */
  usage: z.record(z.string(), z.unknown()).nullable(),
  reportedAt: z.string(),
});
export type FleetApp = z.output<typeof fleetAppSchema>;

export const fleetDeviceSchema = z.object({
  id: z.string(),
  status: z.enum(DEVICE_STATUSES),
  labels: z.record(z.string(), z.string()),
  createdAt: z.string(),
  /** `healthy` or `unknown` (docs/scheduling.md "Health"); null when never tracked. */
  health: z.enum(['healthy', 'unknown']).nullable(),
  /** The device's last manifest read as its replica last flushed it (within one reconcile interval); null if never. */
  lastSeenAt: z.string().nullable(),
  /** The latest expiry among its active certificates; null when it holds none. */
  certificateNotAfter: z.string().nullable(),
  apps: z.array(fleetAppSchema),
});
export type FleetDevice = z.output<typeof fleetDeviceSchema>;

export const fleetSchema = z.object({ devices: z.array(fleetDeviceSchema) });
export type Fleet = z.output<typeof fleetSchema>;
