import { add, capacityOf, demandOf, fits, ZERO, type CapacityRequirements, type Resources } from './capacity.js';
import { isEligible, type EligibilityRule } from './eligibility.js';

/** Where a deployment may go: Margo deviceConstraints, an optional node-lock, and a mode. */
export interface PlacementSpec {
  capacityRequirements?: CapacityRequirements;
  eligibilityRules?: EligibilityRule[];
  /** Node-lock: only these devices are candidates (still subject to every other check). */
  deviceIds?: string[];
  mode: { kind: 'every' } | { kind: 'spread'; replicas: number };
}

/** A device as the scheduler sees it. `used` excludes the deployment being planned. */
export interface Candidate {
  id: string;
  status: 'pending' | 'active' | 'denied' | 'revoked';
  labels: Record<string, unknown>;
  /** The DeviceCapabilitiesManifest last reported; a device that never reported is not placed on. */
  capabilities?: unknown;
  used: Resources;
  /**
   * Of `used`, what deployments older than the one being planned claim. Older deployments claim
   * first: a device already holding this deployment keeps it if it fits next to these alone
   * (absent: no older claims).
   */
  usedByOlder?: Resources;
  /** Placements of other deployments on it: spread prefers the least loaded. */
  load: number;
  /** `unknown`: the device went quiet (docs/scheduling.md "Health"); absent: healthy. */
  health?: 'healthy' | 'unknown';
}

export type Refusal = 'not-active' | 'unhealthy' | 'no-capabilities' | 'not-node-locked' | 'ineligible' | 'no-capacity';

/** Why a device is not a candidate, or undefined when it is one. Order: cheapest check first. */
export function refusalOf(spec: PlacementSpec, c: Candidate): Refusal | undefined {
  if (c.status !== 'active') return 'not-active';
  // A spread instance on a silent device may not be running: it moves to a device that answers.
  // Every-device placements stay, so a device that comes back finds its state waiting.
  if (spec.mode.kind === 'spread' && c.health === 'unknown') return 'unhealthy';
  if (spec.deviceIds && !spec.deviceIds.includes(c.id)) return 'not-node-locked';
  if (c.capabilities === undefined) return 'no-capabilities';
  if (!isEligible({ capabilities: c.capabilities, labels: c.labels }, spec.eligibilityRules ?? [])) return 'ineligible';
  if (!fits(capacityOf(c.capabilities), c.used, spec.capacityRequirements)) return 'no-capacity';
  return undefined;
}

export interface Plan {
  deviceIds: string[];
  /** Spread only: how many instances could not be placed for want of candidates. */
  unplaced: number;
}

/**
 * The devices a deployment should be on. Every-device: each candidate. Spread: current devices
 * that are still candidates stay (no churn), then the least loaded others, ties by id, up to N.
 */
export function planDeployment(spec: PlacementSpec, candidates: readonly Candidate[], current: ReadonlySet<string>): Plan {
  const ok = candidates.filter((c) => refusalOf(spec, current.has(c.id) ? { ...c, used: c.usedByOlder ?? ZERO } : c) === undefined);
  if (spec.mode.kind === 'every') return { deviceIds: ok.map((c) => c.id).sort(), unplaced: 0 };
  const n = spec.mode.replicas;
  const keep = ok
    .filter((c) => current.has(c.id))
    .sort(byId)
    .slice(0, n);
  const others = ok.filter((c) => !current.has(c.id)).sort((a, b) => a.load - b.load || byId(a, b));
  const chosen = [...keep, ...others.slice(0, Math.max(0, n - keep.length))];
  return { deviceIds: chosen.map((c) => c.id).sort(), unplaced: n - chosen.length };
}

const byId = (a: Candidate, b: Candidate) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** After placing `spec` on `deviceIds`, what the candidates look like to the next deployment. */
export function charge(candidates: Candidate[], deviceIds: readonly string[], spec: PlacementSpec): void {
  const on = new Set(deviceIds);
  const demand = demandOf(spec.capacityRequirements);
  for (const c of candidates) {
    if (!on.has(c.id)) continue;
    c.used = add(c.used, demand);
    c.load += 1;
  }
}

export { ZERO };
