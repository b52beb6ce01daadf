/**
 * What the API answers, as the console reads it (dates arrive as ISO strings). The server's own
 * types are Node code; these name only the fields the pages show.
 */

export interface WhoAmI {
  name: string;
  role: string;
  vendor?: string;
}

export type DeviceState = 'pending' | 'installing' | 'installed' | 'failed' | 'removing' | 'removed';

export interface FleetApp {
  deploymentId: string;
  appId: string;
  version: string;
  state: DeviceState;
  usage: Record<string, unknown> | null;
  reportedAt: string;
}

export interface FleetDevice {
  id: string;
  status: 'pending' | 'active' | 'denied' | 'revoked';
  labels: Record<string, string>;
  createdAt: string;
  health: 'healthy' | 'unknown' | null;
  lastSeenAt: string | null;
  certificateNotAfter: string | null;
  apps: FleetApp[];
}

export interface OnboardingRequest {
  id: string;
  deviceId: string;
  method: string;
  publicKeySha256: string;
  createdAt: string;
}

export type RolloutState = 'none' | 'rolling' | 'paused' | 'done' | 'rolled-back';

export interface Rollout {
  state: RolloutState;
  targetVersion: string | null;
  previousVersion: string | null;
  batchSize: number;
  reason: { code: string; message: string } | null;
  waveTimeoutSeconds: number;
  waveStartedAt: string | null;
}

export interface Deployment {
  id: string;
  appId: string;
  version: string;
  rollout: Rollout;
  createdBy: string;
  createdAt: string;
}

export interface Placement {
  deviceId: string;
  version: string;
}

export interface DeploymentStatus {
  deploymentId: string;
  version: string;
  rollout: Rollout;
  devices: number;
  counts: Record<DeviceState, number>;
  versions: Record<string, number>;
  errors: { deviceId: string; version: string; error: { code?: string; message?: string } | null }[];
  usage: Record<string, Record<string, unknown> | null>;
  otherVersions: { deviceId: string; placedVersion: string; version: string; state: DeviceState }[];
}

export interface App {
  id: string;
  vendor: string;
  description: string;
  createdAt: string;
}

export interface AppVersion {
  appId: string;
  version: string;
  component: { repository: string; digest: string; sizeBytes: number };
  imports: string[];
  verification: {
    signer: string;
    provenance?: { builderId: string; sourceRepository?: string };
    sbom?: { components: number; packages: number };
    verifiedAt: string;
  } | null;
  createdAt: string;
}

export interface AuditEvent {
  id: number;
  at: string;
  event: string;
  actor: string | null;
  deviceId: string | null;
  fields: Record<string, unknown>;
}

export interface AuditPage {
  events: AuditEvent[];
  next?: number;
}
