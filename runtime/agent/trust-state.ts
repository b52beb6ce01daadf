import type { JWK } from 'jose';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { deviceSigner, trustDomainOf } from './device-signer.js';
import type { DeviceIdentity } from './identity-files.js';
import { pinnedKeys, pinnedSigningRoots, type PinnedSigningRoots } from './onboarding.js';
import { bundleRootsPem } from './trust-bundle.js';

/**
 * Everything the device trusts and is trusted with, as one value: its identity (key and
 * certificate), the workload-token signer made from that same key and certificate, the fleet
 * roots it verifies the control plane with, the desired-state keys and fleet signing roots it
 * pinned. Never changed in place: a change builds the next value completely (key imported,
 * signer made) and then replaces the current one in a single assignment, so every reader sees
 * either the old trust or the new, never a new certificate with an old key.
 */
export interface DeviceTrust {
  readonly identity: DeviceIdentity;
  readonly signer: DeviceSigner;
  /** The SPIFFE trust domain the device certificate names. */
  readonly trustDomain: string;
  /** Fleet roots (PEM): the stored trust bundle's, else the provisioned CA file. */
  readonly roots: string | string[];
  readonly desiredStateKeys: readonly JWK[] | undefined;
  readonly signingRoots: PinnedSigningRoots | undefined;
}

/** The device's trust state, read by every part of the agent through `current()`. */
export class DeviceTrustState {
  private constructor(
    private state: DeviceTrust,
    private readonly identityDir: string,
  ) {}

  /** The state on disk for `identity`: bundle roots (else `provisionedCa`), pinned keys and roots. */
  static async open(identity: DeviceIdentity, options: { identityDir: string; dataDir: string; provisionedCa: string }): Promise<DeviceTrustState> {
    const state: DeviceTrust = {
      identity,
      signer: await deviceSigner(identity),
      trustDomain: trustDomainOf(identity),
      roots: (await bundleRootsPem(options.identityDir)) ?? options.provisionedCa,
      desiredStateKeys: await pinnedKeys(options.dataDir),
      signingRoots: await pinnedSigningRoots(options.dataDir),
    };
    return new DeviceTrustState(state, options.identityDir);
  }

  current(): DeviceTrust {
    return this.state;
  }

  /**
   * A renewed (or re-enrolled) identity: its signer is made and the bundle it brought read
   * before anything switches, then identity, signer and roots switch together. Resolves once
   * the switch is made: the next token, request or check uses the new key and certificate.
   */
  async adoptIdentity(identity: DeviceIdentity): Promise<void> {
    const signer = await deviceSigner(identity);
    const trustDomain = trustDomainOf(identity);
    const roots = (await bundleRootsPem(this.identityDir)) ?? this.state.roots;
    this.state = { ...this.state, identity, signer, trustDomain, roots };
  }

  /** The trust bundle on disk was refreshed: verify the control plane with its roots from now on. */
  async adoptStoredBundle(): Promise<void> {
    const roots = await bundleRootsPem(this.identityDir);
    if (roots) this.state = { ...this.state, roots };
  }

  adoptDesiredStateKeys(keys: readonly JWK[]): void {
    this.state = { ...this.state, desiredStateKeys: keys };
  }

  /** Used from the next component verified on (the reconciler reads the roots each time). */
  adoptSigningRoots(signingRoots: PinnedSigningRoots): void {
    this.state = { ...this.state, signingRoots };
  }
}
