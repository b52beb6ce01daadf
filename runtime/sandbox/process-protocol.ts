import type { AppIdentity, AppLogRecord } from '../../host-apis/app-context.js';
import type { PortableCompiled } from '../engine/artifact.js';
import type { InvokeOutcome, StopReason, UsageReport } from './protocol.js';
import type { AppSpec } from './sandbox.js';

/** IPC between a process-tier sandbox (parent) and its child process. */

export type ToChild =
  | { type: 'load'; component: PortableCompiled; spec: AppSpec }
  | { type: 'invoke'; id: number; fn: string; args: unknown[] }
  | { type: 'host-answer'; id: number; ok: true; value: unknown }
  | { type: 'host-answer'; id: number; ok: false; error: unknown };

export type FromChild =
  | { type: 'ready'; exports: string[] }
  | { type: 'load-failed'; code: string; message: string }
  /** `usage`: the instance's latest usage report, when one was made since the last sent (it rides here rather than alone). */
  | { type: 'result'; id: number; outcome: InvokeOutcome; usage?: UsageReport }
  | { type: 'log'; identity: AppIdentity; record: AppLogRecord }
  | { type: 'usage'; identity: AppIdentity; report: UsageReport }
  | { type: 'host-call'; id: number; method: string; args: unknown[] }
  | { type: 'ended'; reason: StopReason; message: string };
