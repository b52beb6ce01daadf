import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { OUTBOUND_HTTP_METHOD, type OutboundRequest } from '../../host-apis/wasi/http-wire.js';
import type { BridgeHandlers } from '../sandbox/bridge.js';
import type { AppSpec, SandboxFactory } from '../sandbox/sandbox.js';
import type { UsageLedger } from '../accounting/ledger.js';
import { performOutbound, type OutboundOptions } from './outbound.js';

export interface HttpHandlerOptions extends Omit<OutboundOptions, 'onRefused'> {
  logger?: Logger;
  /** Accounting (docs/accounting.md): body bytes of answered requests, per app. */
  usage?: Pick<UsageLedger, 'recordBytes'>;
}

/**
 * The main-thread side of one instance's `outbound-http` grant, for `SandboxHooks.hostHandlers`.
 * Built from the instance's spec: the grant and identity come from the runtime, never the app.
 */
export function httpHostHandlers(spec: AppSpec, options: HttpHandlerOptions = {}): BridgeHandlers {
  const grant = spec.grants['outbound-http'];
  if (!grant) return {};
  const logger = options.logger ?? silentLogger;
  const { vendor, app, instance } = spec.identity;
  return {
    [OUTBOUND_HTTP_METHOD]: async (request: OutboundRequest) => {
      const result = await performOutbound(request, grant, {
        ...options,
        onRefused: (origin, reason) => securityEvent(logger, 'outbound-http-refused', { vendor, app, instance, origin, reason }),
      });
      // Only answered requests are counted: a refused one sent nothing.
      if (result.ok && options.usage) {
        options.usage.recordBytes(spec.identity, 'out', request.body.byteLength);
        options.usage.recordBytes(spec.identity, 'in', result.body.byteLength);
      }
      return result;
    },
  };
}

/**
 * Wraps a sandbox factory of any tier so that each instance with an `outbound-http` grant gets
 * its HTTP handler beside the runtime's own (the way `withMessaging` adds messaging).
 */
export function withOutboundHttp(factory: SandboxFactory, options: HttpHandlerOptions = {}): SandboxFactory {
  return (compiled, spec, hooks) =>
    factory(compiled, spec, {
      ...hooks,
      // The runtime's own handlers (RuntimeOptions.hostHandlers) win: a test or an embedder may
      // bring its own HTTP handler (a resolver, a CA).
      hostHandlers: (s: AppSpec) => ({ ...httpHostHandlers(s, options), ...(hooks.hostHandlers?.(s) ?? {}) }),
    });
}
