import { BerthError } from '../../common/errors.js';
import { issueWorkloadToken, type DeviceSigner } from '../../trust/workload/token.js';
import type { BridgeHandlers } from '../sandbox/bridge.js';
import type { AppSpec, SandboxFactory } from '../sandbox/sandbox.js';

/** Thrown to the guest as the `err` case of `get-token` (berth:host/identity error variant). */
function guestError(tag: 'audience-not-granted' | 'unavailable', val: string): never {
  throw { payload: { tag, val } };
}

/**
 * The host side of `berth:host/identity`, per app instance: the audience is checked against
 * the instance's own grant again here (the guest-side check is a convenience, this one is the
 * boundary), and the token names the instance's vendor and app as the runtime knows them,
 * never as the app says.
 */
export function workloadIdentityHandlers(currentSigner: () => DeviceSigner | undefined): (spec: AppSpec) => BridgeHandlers {
  return (spec) => ({
    'identity.getToken': async (audience: unknown) => {
      if (typeof audience !== 'string') guestError('unavailable', 'the audience must be a string');
      const granted = spec.grants.identity?.audiences ?? [];
      if (!granted.includes(audience)) guestError('audience-not-granted', audience);
      const signer = currentSigner();
      if (!signer) guestError('unavailable', 'this device has no certificate yet');
      try {
        return await issueWorkloadToken(signer, { vendor: spec.identity.vendor, app: spec.identity.app, instance: spec.identity.instance, audience });
      } catch (err) {
        if (err instanceof BerthError) guestError('unavailable', err.message);
        throw err;
      }
    },
  });
}

/**
 * Wraps a sandbox factory of any tier so that each instance gets the workload-token handler
 * beside the runtime's own (the way `withMessaging` adds messaging); the runtime's own win.
 */
export function withWorkloadIdentity(factory: SandboxFactory, currentSigner: () => DeviceSigner | undefined): SandboxFactory {
  const handlers = workloadIdentityHandlers(currentSigner);
  return (compiled, spec, hooks) =>
    factory(compiled, spec, { ...hooks, hostHandlers: (s: AppSpec) => ({ ...handlers(s), ...(hooks.hostHandlers?.(s) ?? {}) }) });
}
