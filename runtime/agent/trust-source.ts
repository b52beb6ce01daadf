import type { JWK } from 'jose';
import type { Logger } from '../../common/logger.js';
import type { ControlPlaneClient } from './control-plane-client.js';
import { followKeyRotation, followSigningRoots, pinKeys, pinSigningRoots, type PinnedSigningRoots } from './onboarding.js';
import { refreshTrustBundle } from './trust-bundle.js';

/**
 * Where the device takes the keys that sign its desired state and the fleet signing roots its
 * components chain to: from the control plane's channel with the rules of docs/agent.md
 * (pinned once, then only what a pinned key or a signed statement vouches for), or from the
 * fleet's TUF repository (runtime/agent/tuf-trust.ts, docs/tuf.md). One seam, two sources.
 */
export interface TrustSource {
  readonly kind: 'channel' | 'tuf';
  /** The keys to pin at first contact. */
  pinKeys(): Promise<JWK[]>;
  /** A desired state was signed by a key not pinned: the keys to pin now (the same list when none is new). */
  followKeyRotation(pinned: readonly JWK[]): Promise<JWK[]>;
  pinSigningRoots(): Promise<PinnedSigningRoots>;
  /** A verified desired state names roots with `signedDigest`: those roots, or a refusal. */
  followSigningRoots(signedDigest: string): Promise<PinnedSigningRoots>;
  /** The fleet CA bundle, stored for the device to verify the control plane with (docs/trust.md). */
  refreshBundle(): Promise<void>;
  /**
   * Between needs, a look for what changed (TUF: a new root, an expired or frozen repository,
   * new keys); the keys to pin now, or undefined when nothing is to change. The channel has no such look.
   */
  refresh?(pinned: readonly JWK[]): Promise<JWK[] | undefined>;
}

/** What the channel's bundle refresh connects with: the roots and trust domain of the moment. */
export interface ChannelTls {
  url: string;
  dir: string;
  tls: () => { ca: string | string[]; trustDomain: string };
}

/** The channel's rules, as before TUF (and for devices not configured with a TUF root). */
export function channelTrustSource(client: ControlPlaneClient, dataDir: string, bundle: ChannelTls, logger: Logger): TrustSource {
  return {
    kind: 'channel',
    pinKeys: () => pinKeys(client, dataDir, logger),
    followKeyRotation: (pinned) => followKeyRotation(client, dataDir, pinned, logger),
    pinSigningRoots: () => pinSigningRoots(client, dataDir, logger),
    followSigningRoots: (signed) => followSigningRoots(client, dataDir, signed, logger),
    refreshBundle: async () => {
      await refreshTrustBundle({ url: bundle.url, dir: bundle.dir, logger, ...bundle.tls() });
    },
  };
}
