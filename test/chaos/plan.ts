/**
 * The chaos test's faults: a fixed number of each kind, at points drawn from a seeded generator,
 * so a failing run is replayed exactly with `BERTH_CHAOS_SEED=<seed>` (the seed is printed).
 */
export type Fault =
  | { kind: 'kill-agent'; atMs: number; agent: number; downMs: number; nextReplica: number }
  | { kind: 'kill-replica'; atMs: number; replica: number; downMs: number }
  | { kind: 'restart-postgres'; atMs: number; downMs: number }
  | { kind: 'fill-disk'; atMs: number; agent: number; holdMs: number }
  /** The agent's wall clock moved by `hours` (one device behind, another ahead). */
  | { kind: 'skew-clock'; atMs: number; agent: number; hours: -1 | 1 };

/** mulberry32: small, fast, and the same sequence on every platform for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSeed(): number {
  const given = process.env.BERTH_CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`BERTH_CHAOS_SEED must be a whole number from 0 to 4294967295, not '${given}'`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}

export interface PlanShape {
  agents: number;
  replicas: number;
  /** Faults start within this window from the rollout's start (ms). */
  windowMs: number;
  agentKills: number;
  /** Which faults the machine allows (a tmpfs mount, libfaketime). */
  diskFull: boolean;
  clockSkew: boolean;
}

/** The faults of one run, in the order they start. */
export function planFaults(random: () => number, s: PlanShape): Fault[] {
  const at = () => Math.floor(random() * s.windowMs);
  const pick = (n: number) => Math.floor(random() * n);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
  const faults: Fault[] = [];
  for (let i = 0; i < s.agentKills; i++)
    faults.push({ kind: 'kill-agent', atMs: at(), agent: pick(s.agents), downMs: between(300, 2500), nextReplica: pick(s.replicas) });
  faults.push({ kind: 'kill-replica', atMs: at(), replica: pick(s.replicas), downMs: between(500, 3000) });
  faults.push({ kind: 'restart-postgres', atMs: at(), downMs: between(200, 2000) });
  if (s.diskFull) faults.push({ kind: 'fill-disk', atMs: at(), agent: pick(s.agents), holdMs: between(3000, 6000) });
  if (s.clockSkew) {
    // Two different devices: one an hour behind, one an hour ahead (docs/trust.md, "Clock skew").
    const behind = pick(s.agents);
    const ahead = (behind + 1 + pick(s.agents - 1)) % s.agents;
    faults.push({ kind: 'skew-clock', atMs: at(), agent: behind, hours: -1 }, { kind: 'skew-clock', atMs: at(), agent: ahead, hours: 1 });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'kill-agent':
      return `+${f.atMs} ms kill -9 agent ${f.agent}, down ${f.downMs} ms, back on replica ${f.nextReplica}`;
    case 'kill-replica':
      return `+${f.atMs} ms kill -9 replica ${f.replica}, down ${f.downMs} ms`;
    case 'restart-postgres':
      return `+${f.atMs} ms PostgreSQL immediate shutdown, down ${f.downMs} ms`;
    case 'fill-disk':
      return `+${f.atMs} ms fill agent ${f.agent}'s disk for ${f.holdMs} ms, kill -9 and start it on the full disk`;
    case 'skew-clock':
      return `+${f.atMs} ms agent ${f.agent}'s clock one hour ${f.hours < 0 ? 'behind' : 'ahead'}`;
  }
}
