import type { Digest } from '../../common/digest.js';
import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';
import type { GrantSet } from '../../wire/grants.js';
import type { Tier } from '../../wire/tier.js';
import type { CompiledComponent } from '../engine/engine.js';
import type { BridgeHandlers } from './bridge.js';
import type { InvokeOutcome, StopReport, UsageReport } from './protocol.js';

/** What the runtime needs to know to run one app instance. */
export interface AppSpec {
  identity: AppIdentity;
  digest: Digest;
  grants: GrantSet;
  /** The app's own folder on the device (keyvalue/, files/ inside). */
  dataDir: string;
  limits: AppLimits;
}

export interface AppLimits {
  /** Linear memory ceiling, applied to every core module before it is compiled. */
  memoryBytes: number;
  /** Wall-clock budget of one invocation; past it the sandbox is ended. */
  cpuDeadlineMs: number;
  /** JS heap of the sandbox's own thread (glue and host objects), in MiB. */
  jsHeapMb: number;
  /**
   * Budget for the instance to come up (glue loaded, core modules instantiated, which runs their
   * start functions); past it the sandbox thread is ended like a call past its deadline. 15 s
   * when unset: a large component's first load in a busy thread takes far longer than a call.
   */
  instantiateDeadlineMs?: number;
}

export const DEFAULT_LIMITS: AppLimits = { memoryBytes: 64 * 2 ** 20, cpuDeadlineMs: 5_000, jsHeapMb: 64 };

export interface SandboxHooks {
  log: (identity: AppIdentity, record: AppLogRecord) => void;
  /**
   * Host work done on the controlling thread for one app instance (identity tokens, HTTP,
   * messaging), answered through the synchronous bridge. Built per instance, so a handler
   * always knows which app is asking and cannot be asked on another app's behalf.
   */
  hostHandlers?: (spec: AppSpec) => BridgeHandlers;
  /** Accounting (docs/accounting.md): an instance's cumulative usage, as its thread reports it. */
  usage?: (identity: AppIdentity, report: UsageReport) => void;
  /**
   * Set by the supervisor, which runs an app's entry point as soon as its instance is up. A tier
   * that can start it in the same step as the instance (no round trip of its own) does, and hands
   * its outcome over as `Sandbox.entryPoint`; otherwise the supervisor calls `run` itself.
   */
  runEntryPoint?: boolean;
}

/**
 * One isolation boundary holding one app instance. Tiers (instance, worker, process) differ only
 * in what the boundary is and what it costs; the app sees the same host APIs in each.
 */
export interface Sandbox {
  readonly tier: Tier;
  readonly exports: string[];
  /** Memory pages of the guest as last reported. */
  readonly memoryPages: number;
  /** The entry point's outcome when the sandbox started it itself (see SandboxHooks.runEntryPoint). */
  readonly entryPoint?: Promise<InvokeOutcome>;
  invoke(fn: string, args?: unknown[]): Promise<InvokeOutcome>;
  stop(): Promise<void>;
  /** Called once, when the sandbox ends for any reason. */
  onStop(listener: (report: StopReport) => void): void;
}

export type SandboxFactory = (compiled: CompiledComponent, spec: AppSpec, hooks: SandboxHooks) => Promise<Sandbox>;
