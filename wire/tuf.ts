/**
 * The fleet's TUF repository as both sides name it (docs/tuf.md): where it is served, which
 * target files it lists, and how long each role's metadata lives.
 */

/** Metadata (`1.root.json`, `timestamp.json`, `3.snapshot.json`, …) is served under this path. */
export const TUF_METADATA_PATH = '/api/v1/tuf/metadata';
/** Target files under this path, consistent-snapshot style: `<sha256>.<target path>`. */
export const TUF_TARGETS_PATH = '/api/v1/tuf/targets';

/** The trust documents the control plane lists as targets; a device takes its roots only from these. */
export const FLEET_TARGETS = {
  /** The SPIFFE bundle of the fleet CA roots (what `GET /api/v1/trust-bundle` serves). */
  trustBundle: 'fleet/trust-bundle.json',
  /** The fleet signing CAs and TSAs (what `GET /api/v1/signing/roots` serves). */
  signingRoots: 'fleet/signing-roots.json',
  /** The desired-state keys, with endorsements (what `GET /api/v1/desired-state/keys` serves). */
  desiredStateKeys: 'fleet/desired-state-keys.json',
} as const;

/** A vendor's trust policy as a target file. */
export const vendorPolicyTarget = (vendor: string): string => `vendors/${vendor}/trust-policy.json`;

/** The online roles, each with its own key held by the control plane. */
export const ONLINE_ROLES = ['targets', 'snapshot', 'timestamp'] as const;
export type OnlineRole = (typeof ONLINE_ROLES)[number];

/**
 * How long metadata signed online stays valid. Timestamp is short so a frozen repository is
 * noticed within a day; the control plane re-signs each at half its life.
 */
export const ONLINE_EXPIRY_SECONDS: Record<OnlineRole, number> = {
  targets: 30 * 86_400,
  snapshot: 7 * 86_400,
  timestamp: 86_400,
};

/** Root's default life: a year, re-signed by the offline keys before it ends (docs/tuf.md). */
export const DEFAULT_ROOT_EXPIRY_DAYS = 365;
