import { Agent } from 'node:https';
import { controlPlaneIdentityCheck } from './control-plane-identity.js';
import type { DeviceIdentity } from './identity-files.js';

interface PooledAgent {
  /** The certificate and roots its connections were made with. */
  key: string;
  agent: Agent;
  inFlight: number;
  retired: boolean;
}

/**
 * Kept-alive mTLS connections to the control plane, for the identity in use now. A device polls
 * for as long as it runs; a new connection per request would cost the control plane a full
 * handshake each time (a P-256 signature and a client-chain check), which across a fleet is
 * most of its work (docs/benchmarks.md "fleet"). When the identity changes (a renewal, a
 * rotated bundle), new requests get new connections at once; the old ones close as soon as the
 * requests still on them (a parked long-poll) have ended.
 */
export class ConnectionPool {
  private current: PooledAgent | undefined;

  /** The agent for this identity, and a release to call when the request has ended. */
  acquire(identity: DeviceIdentity, ca: string | string[], trustDomain: string): { agent: Agent; release: () => void } {
    const key = `${trustDomain}\n${identity.certificatePem}\n${[ca].flat().join('\n')}`;
    if (this.current?.key !== key) {
      if (this.current) this.retire(this.current);
      this.current = {
        key,
        agent: new Agent({
          keepAlive: true,
          maxSockets: 4,
          ca,
          key: identity.keyPem,
          cert: identity.certificatePem,
          checkServerIdentity: controlPlaneIdentityCheck(trustDomain, ca),
          minVersion: 'TLSv1.3',
        }),
        inFlight: 0,
        retired: false,
      };
    }
    const pooled = this.current;
    pooled.inFlight++;
    let released = false;
    return {
      agent: pooled.agent,
      release: () => {
        if (released) return;
        released = true;
        pooled.inFlight--;
        if (pooled.retired && pooled.inFlight === 0) pooled.agent.destroy();
      },
    };
  }

  close(): void {
    if (this.current) this.current.agent.destroy();
    this.current = undefined;
  }

  private retire(pooled: PooledAgent): void {
    pooled.retired = true;
    if (pooled.inFlight === 0) pooled.agent.destroy();
  }
}
