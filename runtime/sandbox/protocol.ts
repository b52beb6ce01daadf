import type { GrantSet } from '../../host-apis/grants.js';
import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';
import type { BridgeChannel } from './bridge.js';

/** Messages between a sandbox's controller (main thread) and its worker. */

/**
 * A worker hosts one app instance (worker tier) or several (instance tier); `slot` says which.
 */
export interface LoadRequest {
  type: 'load';
  slot: number;
  glueUrl: string;
  modules: Record<string, WebAssembly.Module>;
  imports: string[];
  identity: AppIdentity;
  grants: GrantSet;
  dataDir: string;
  bridge: BridgeChannel;
  bridgeTimeoutMs: number;
}

export interface InvokeRequest {
  type: 'invoke';
  slot: number;
  id: number;
  fn: string;
  args: unknown[];
}

/** Imports an app's glue ahead of time, so a later `load` of that app skips parsing it. */
export interface PreloadRequest {
  type: 'preload';
  glueUrl: string;
}

/** Drops one instance from a shared worker (instance tier); its host objects go with it. */
export interface UnloadRequest {
  type: 'unload';
  slot: number;
}

export type ToWorker = LoadRequest | InvokeRequest | PreloadRequest | UnloadRequest;

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

export type FromWorker =
  | { type: 'idle' }
  | { type: 'ready'; slot: number; exports: string[] }
  | { type: 'load-failed'; slot: number; code: string; message: string }
  | { type: 'result'; slot: number; id: number; ok: true; value: unknown }
  | { type: 'result'; slot: number; id: number; ok: false; failure: InvokeFailure }
  | { type: 'log'; slot: number; record: AppLogRecord }
  | ({ type: 'usage'; slot: number } & UsageReport);

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
