import type { ColdStarts } from './isolation-berth.js';
import type { ProbeColumn } from './isolation-probes.js';
import type { Machine } from './report.js';

export interface Measured {
  /** The engine that ran it (Berth's tiers); none for the container. The chart groups a column's bars by engine. */
  engine?: string;
  /** The column it belongs to (a tier, the pre-started worker, the container) when its key says more (the engine too). */
  column?: string;
  coldMs: number[];
  /** Berth's tiers: where each cold start's time went. */
  breakdown?: ColdStarts;
  invokeUs: number[];
  /** `fresh`: measured in a process of its own, with many apps (the instance tier's target). */
  memory?: { started: number; bytesTotal: number; note: string; fresh?: boolean };
}

export interface IsolationData {
  machine: Machine;
  load: { before: number[]; after: number[] };
  /** The OCI runtime used, undefined when none worked here. */
  oci: string | undefined;
  ociTried: string[];
  /** By column key: `instance (wasmtime)`, …, `container`. */
  measured: Record<string, Measured>;
  probes: Record<string, ProbeColumn>;
  quick: boolean;
}

/** The worker tier started on a thread the runtime keeps pre-started (the agent's default). */
export const PRESTARTED = 'worker, pre-started thread';

/** The key of a column measured on an engine: `instance (wasmtime)`. */
export const columnKey = (column: string, engine: string): string => `${column} (${engine})`;

/** The column (tier, pre-started worker, container) a measurement belongs to. */
export const columnOf = (key: string, m: Measured): string => m.column ?? key;

/** The measurement of `column` on `engine`, whatever its key. */
export function measuredAt(d: IsolationData, column: string, engine: string): Measured | undefined {
  return Object.entries(d.measured).find(([key, m]) => columnOf(key, m) === column && m.engine === engine)?.[1];
}

export const perInstance = (m: Measured): number => (m.memory ? m.memory.bytesTotal / m.memory.started : NaN);
