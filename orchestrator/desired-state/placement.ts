import type { Digest } from '../../common/digest.js';
import type { Queryable } from '../store/store.js';
import type { GrantSet } from '../../wire/grants.js';
import type { Limits } from '../../wire/limits.js';
import type { Tier } from '../../wire/tier.js';
import type { RefusedDigest } from '../../wire/advisory.js';

/**
 * The seam between scheduling (what should run where) and the device channel (telling each
 * device, signed). The scheduler writes placements; the desired-state side renders each
 * device's Margo state manifest from its placements, bumps its `manifestVersion`, signs it and
 * wakes devices waiting on it. Neither side reaches into the other's tables.
 */
export interface Placement {
  /** The Margo deployment id this placement belongs to (stable across versions). */
  deploymentId: string;
  deviceId: string;
  vendor: string;
  app: string;
  /** SemVer as Margo writes it (no leading v, `_` for `+`). */
  version: string;
  component: {
    /** `oci://registry/repo` without tag or digest; devices always pull by digest. */
    repository: string;
    digest: Digest;
    sizeBytes: number;
  };
  /** Effective grants (wire/grants.ts): every default applied, as the device receives them. */
  grants: GrantSet;
  tier: Tier;
  limits?: Limits;
  /** Margo parameters, already resolved for this device. */
  parameters?: Record<string, unknown>;
  /**
   * The vendor's trust policy (trust/signing/policy.ts) as stored: rendered into the deployment
   * document, so the signed desired state tells the device which keys or identities the
   * component must verify against — the device never takes that from the registry.
   */
  trustPolicy: Record<string, unknown>;
  /** Digests of this app that advisories stop (orchestrator/advisories/refused-digests.ts); absent when none. */
  refusedDigests?: RefusedDigest[];
}

/** Read side used by the desired-state renderer: every placement of one device, in a stable order. */
export interface PlacementSource {
  placementsForDevice(db: Queryable, deviceId: string): Promise<Placement[]>;
  /**
   * Every placement of each of these devices, in one round trip (a device without any may be
   * absent). Optional: without it the renderer asks device by device.
   */
  placementsForDevices?(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, Placement[]>>;
}

/**
 * Called by the scheduler, inside the same transaction that changed placements, with every
 * device whose set of placements changed; the desired-state side bumps those devices'
 * versions in that transaction, so a placement change and its new manifest commit together.
 */
export type DesiredStateChanged = (tx: Queryable, deviceIds: readonly string[]) => Promise<void>;
