/** What bench/fuzz-target.ts (the servers' process) and bench/fuzz-run.ts (the fuzzer) exchange. */

/** Who a request claims to be: each role's bearer token, the enrolled device's mTLS certificate, or nothing. */
export type CredentialName = 'none' | 'admin' | 'operator' | 'vendor' | 'otherVendor' | 'enrollment' | 'device' | 'garbage';

export interface SeededIds {
  vendor: string;
  app: string;
  version: string;
  deployment: string;
  device: string;
}

export interface FuzzTargetReady {
  kind: 'ready';
  controlPlaneUrl: string;
  registryUrl: string;
  /** Fleet roots (PEM) the control plane's server certificate chains to. */
  ca: string[];
  credentials: {
    admin: string;
    operator: string;
    vendor: string;
    otherVendor: string;
    enrollment: string;
    device: { keyPem: string; certificatePem: string };
  };
  ids: SeededIds;
  /** `app.routes` of the control plane's Hono app. */
  routes: { method: string; path: string }[];
}

export type FuzzTargetMessage = { kind: 'schemas' } | { kind: 'stop' };

export type FuzzTargetReply = FuzzTargetReady | { kind: 'schemas'; schemas: Record<string, unknown> } | { kind: 'error'; message: string };

/** Which server a request goes to. */
export type FuzzTarget = 'control-plane' | 'registry';

/** One generated request, kept whole so a 5xx or a hang can be printed as a reproducer. */
export interface FuzzRequest {
  target: FuzzTarget;
  /** The route template it was made from (for grouping findings). */
  route: string;
  credential: CredentialName;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Set for the raw-socket fraction: the exact bytes sent (request line, headers, body). */
  raw?: Buffer;
}

export interface FuzzOutcome {
  /** HTTP status, or undefined when the connection ended without an answer. */
  status?: number;
  /** The problem document's `code` (or the OCI error's), when the answer had one. */
  code?: string;
  /** No answer and no close within the per-request deadline. */
  hang?: boolean;
  /** The connection failed or closed without an answer (the server may refuse malformed bytes so). */
  closed?: string;
}
