import type { HttpBindings } from '@hono/node-server';

/** What the mTLS middleware establishes about the calling device. */
export interface DeviceCaller {
  deviceId: string;
  spiffeId: string;
  certificateFingerprint: string;
  publicKeySha256: string;
  notAfter: Date;
}

export interface OperatorCaller {
  tokenId: string;
  name: string;
  role: string;
}

/** The Hono environment of every control-plane route (node-server bindings give the TLS socket). */
export interface AppEnv {
  /** `localAdmin` is set only by the owner-only Unix socket of `berth orchestrator start`. */
  Bindings: HttpBindings & { localAdmin?: boolean };
  Variables: {
    device: DeviceCaller;
    operator: OperatorCaller;
  };
}
