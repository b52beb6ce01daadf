/** Margo capacity: cores, architectures, memory and storage (`^[0-9]+(Mi|Gi|Ki)$`). */
export interface CapacityRequirements {
  cpu?: { cores?: number; architectures?: string[] };
  memory?: string;
  storage?: string;
}

/** Resources as plain numbers, so usage can be summed. */
export interface Resources {
  cores: number;
  memoryBytes: number;
  storageBytes: number;
}

export const QUANTITY = /^[0-9]+(Mi|Gi|Ki)$/;
const UNIT: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** `512Mi` → bytes. Devices may also report plain byte counts or `Ti`; anything else is undefined. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] ? UNIT[m[2]]! : 1);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const ZERO: Resources = { cores: 0, memoryBytes: 0, storageBytes: 0 };

export function demandOf(req: CapacityRequirements | undefined): Resources {
  return {
    cores: req?.cpu?.cores ?? 0,
    memoryBytes: parseQuantity(req?.memory) ?? 0,
    storageBytes: parseQuantity(req?.storage) ?? 0,
  };
}

export function add(a: Resources, b: Resources): Resources {
  return { cores: a.cores + b.cores, memoryBytes: a.memoryBytes + b.memoryBytes, storageBytes: a.storageBytes + b.storageBytes };
}

/** What a device offers, from its DeviceCapabilitiesManifest; a figure it does not report is undefined. */
export interface DeviceCapacity {
  cores?: number;
  architectures: Set<string>;
  memoryBytes?: number;
  storageBytes?: number;
}

export function capacityOf(capabilities: unknown): DeviceCapacity {
  const props = (capabilities as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const cpus = Array.isArray(props.cpus) ? (props.cpus as unknown[]) : [];
  let cores: number | undefined;
  const architectures = new Set<string>();
  for (const cpu of cpus) {
    if (cpu === null || typeof cpu !== 'object') continue;
    const c = cpu as { cores?: unknown; architecture?: unknown };
    if (typeof c.cores === 'number' && c.cores >= 0) cores = (cores ?? 0) + c.cores;
    if (typeof c.architecture === 'string') architectures.add(c.architecture);
  }
  return { cores, architectures, memoryBytes: parseQuantity(props.memory), storageBytes: parseQuantity(props.storage) };
}

/**
 * Whether `demand` fits next to what is `used` already. A requirement the device does not report
 * capacity for does not fit (unknown is not enough); a requirement of zero always fits.
 */
export function fits(device: DeviceCapacity, used: Resources, req: CapacityRequirements | undefined): boolean {
  const archs = req?.cpu?.architectures;
  if (archs && archs.length > 0 && !archs.some((a) => device.architectures.has(a))) return false;
  const d = demandOf(req);
  const within = (want: number, have: number | undefined, taken: number) => want === 0 || (have !== undefined && taken + want <= have);
  return (
    within(d.cores, device.cores, used.cores) &&
    within(d.memoryBytes, device.memoryBytes, used.memoryBytes) &&
    within(d.storageBytes, device.storageBytes, used.storageBytes)
  );
}
