import type { GrantSet } from '../../wire/grants.js';
import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';
import type { BridgeChannel } from './bridge.js';
import type { CompiledComponent } from '../engine/engine.js';
import type { CoreBudgetLimits } from '../engine/jco/core-budget.js';

/** Messages between a sandbox's controller (main thread) and its worker. */

/**
 * A worker hosts one app instance (worker tier) or several (instance tier); `slot` says which.
 * It handles its messages strictly in order, one at a time, so results come back in the order
 * the calls were sent.
 */
export interface LoadRequest {
  type: 'load';
  slot: number;
  /** What the engine compiled, as that thread should have it (runtime/engine/artifact.ts). */
  artifact: CompiledComponent['artifact'];
  imports: string[];
  identity: AppIdentity;
  grants: GrantSet;
  dataDir: string;
  /** Nonzero once the controller has taken the slot off the thread: calls to it still queued are skipped. */
  unloaded: SharedArrayBuffer;
  /** The instance's synchronous bridge is opened by the worker on its first host call (`bridge` message). */
  bridgeTimeoutMs: number;
  /** Each call's CPU deadline: an engine that can interrupt a guest in its thread keeps it there. */
  cpuDeadlineMs: number;
  /** The same for the instance's start. */
  instantiateDeadlineMs: number;
  /**
   * When set, the worker runs the app's entry point, as call `entryCall`, right after the
   * instance is ready (if it has one: `ready.entryStarted`), saving the controller a round trip.
   */
  entryCall?: number;
}

export interface InvokeRequest {
  type: 'invoke';
  slot: number;
  id: number;
  fn: string;
  args: unknown[];
}

/** Loads an app's artifact ahead of time and warms it, so a later `load` of that app is quicker. */
export interface PreloadRequest {
  type: 'preload';
  artifact: CompiledComponent['artifact'];
}

/** Drops one instance from a shared worker (instance tier); its host objects go with it. */
export interface UnloadRequest {
  type: 'unload';
  slot: number;
}

/** The thread's guests were halted (its halt flag): it exits once the call it runs has ended. */
export interface ExitRequest {
  type: 'exit';
}

export type ToWorker = LoadRequest | InvokeRequest | PreloadRequest | UnloadRequest | ExitRequest;

/** How an invocation ended. `app-error` is the guest's own `err` result; the rest are faults. */
export type InvokeFailure =
  | { kind: 'app-error'; message: string; payload: unknown }
  | { kind: 'trap'; message: string }
  | { kind: 'exit'; message: string; code: number }
  | { kind: 'no-such-export'; message: string }
  /** The sandbox ended while the call ran (deadline, crash, stop): see its StopReport. */
  | { kind: 'sandbox-stopped'; message: string; reason: StopReason };

/** `failed`: the entry point returned its own error result; the instance itself was sound. */
export type StopReason = 'deadline' | 'trap' | 'crash' | 'failed' | 'out-of-memory' | 'load-failed' | 'stopped';

export interface StopReport {
  reason: StopReason;
  message: string;
  at: number;
}

export type InvokeOutcome = { ok: true; value: unknown } | { ok: false; failure: InvokeFailure };

/** `at`, `endedAt`: the worker's `monotonicMs()`, on the clock the controller reads too. */
export type FromWorker =
  | { type: 'idle' }
  | { type: 'ready'; slot: number; exports: string[]; usage: UsageReport; entryStarted: boolean; at: number }
  | { type: 'load-failed'; slot: number; code: string; message: string; at: number }
  | ({ type: 'result'; slot: number; id: number; endedAt: number; usage?: UsageReport } & InvokeOutcome)
  | { type: 'log'; slot: number; record: AppLogRecord }
  /** The instance's first host call: the controller serves this channel with the slot's handlers. */
  | { type: 'bridge'; slot: number; channel: BridgeChannel };

/** Both threads of a process read the same monotonic clock, so their readings compare. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Accounting (issue 7; docs/accounting.md): what one instance has used since it was loaded,
 * cumulative, sent after its instantiation and after each invocation.
 */
export interface UsageReport {
  /** Pages of the guest's main linear memory, now. */
  memoryPages: number;
  /** Used V8 heap of the thread; undefined when the thread holds several instances (instance tier). */
  jsHeapBytes: number | undefined;
  /** Wall time running the instance (instantiation, invocations) less time blocked in host calls. */
  busyMs: number;
  /** Time blocked in host calls answered on the controlling thread. */
  blockedMs: number;
  /** Calls from the guest into each imported interface (free functions; resource methods are not counted). */
  hostCalls: Record<string, number>;
}
