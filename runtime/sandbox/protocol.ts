import type { GrantSet } from '../../host-apis/grants.js';
import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';
import type { BridgeChannel } from './bridge.js';

/** Messages between a sandbox's controller (main thread) and its worker. */

export interface LoadRequest {
  type: 'load';
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
  id: number;
  fn: string;
  args: unknown[];
}

/** Imports an app's glue ahead of time, so a later `load` of that app skips parsing it. */
export interface PreloadRequest {
  type: 'preload';
  glueUrl: string;
}

export type ToWorker = LoadRequest | InvokeRequest | PreloadRequest;

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
  | { type: 'ready'; exports: string[] }
  | { type: 'load-failed'; code: string; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; failure: InvokeFailure }
  | { type: 'log'; record: AppLogRecord }
  | { type: 'usage'; memoryPages: number; hostCalls: number };
