/**
 * What crosses the host-call bridge for one outgoing request: the worker checks the grant and
 * collects the request; the main thread checks again, connects, and answers with the whole
 * (bounded) response. Plain data only: it travels by structured clone.
 */
import type { ErrorCode } from './http-body.js';

export const OUTBOUND_HTTP_METHOD = 'http.outbound';

export interface OutboundRequest {
  method: string;
  scheme: 'http' | 'https';
  /** host[:port] as the guest wrote it. */
  authority: string;
  pathWithQuery: string;
  headers: [string, Uint8Array][];
  body: Uint8Array;
  /** From the guest's request-options; the grant's total limit applies on top. */
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
}

export type OutboundResult = { ok: true; status: number; headers: [string, Uint8Array][]; body: Uint8Array } | { ok: false; error: ErrorCode; message: string };
