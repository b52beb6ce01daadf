/**
 * `wasi:http/outgoing-handler.handle`, built per instance from its `outbound-http` grant.
 *
 * The origin is checked here, in the app's thread, before anything leaves it; the main thread
 * checks it again (it trusts no app-supplied data) and owns the network. A refusal is the WASI
 * `HTTP-request-denied` error code and a `host` line in the app's log.
 */
import type { GrantSet } from '../../wire/grants.js';
import { fail } from './result.js';
import type { ErrorCode } from './http-body.js';
import { allowedBy, formatOrigin, parseAllowPattern, requestOrigin } from './http-origin.js';
import { FutureIncomingResponse, methodName, OutgoingRequest, RequestOptions, schemeName } from './http-outgoing.js';
import { OUTBOUND_HTTP_METHOD, type OutboundRequest, type OutboundResult } from './http-wire.js';

export type OutboundHttpGrant = NonNullable<GrantSet['outbound-http']>;

export interface OutgoingHandlerOptions {
  grant: OutboundHttpGrant;
  /** The bridge to the main thread; absent: every request fails as unavailable. */
  hostCall?: (method: string, args: unknown[]) => unknown;
  /** A refusal or failure, for the app's log. */
  warn: (message: string) => void;
}

export interface OutgoingHandlerHost {
  handle(request: OutgoingRequest, options: RequestOptions | undefined): FutureIncomingResponse;
}

export function createOutgoingHandler({ grant, hostCall, warn }: OutgoingHandlerOptions): OutgoingHandlerHost {
  const patterns = grant.allow.map(parseAllowPattern);
  return {
    handle(request, options) {
      if (!(request instanceof OutgoingRequest)) throw new TypeError('not an outgoing-request');
      const parts = OutgoingRequest.parts(request);
      const scheme = schemeName(parts.scheme);
      const authority = parts.authority ?? '';
      const origin = requestOrigin(scheme, authority);
      if (!origin) {
        warn(`outbound HTTP refused: ${scheme}://${authority} is not an http(s) origin Berth accepts`);
        fail<ErrorCode>({ tag: 'HTTP-request-URI-invalid' });
      }
      if (!allowedBy(patterns, origin)) {
        warn(`outbound HTTP refused: ${formatOrigin(origin)} is not in the outbound-http grant`);
        fail<ErrorCode>({ tag: 'HTTP-request-denied' });
      }
      if (parts.path !== undefined && parts.path.length > 8192) fail<ErrorCode>({ tag: 'HTTP-request-URI-invalid' });
      const build = (): OutboundRequest => ({
        method: methodName(parts.method),
        scheme: origin.scheme,
        authority,
        pathWithQuery: parts.path ?? '/',
        headers: parts.headers.entries(),
        body: parts.sink.bytes(),
        ...RequestOptions.millis(options),
      });
      const future = new FutureIncomingResponse((): OutboundResult => {
        if (parts.sink.overflowed || parts.sink.size > grant.maxRequestBytes) {
          return { ok: false, error: { tag: 'HTTP-request-body-size', val: BigInt(grant.maxRequestBytes) }, message: 'request body too large' };
        }
        if (!hostCall) return { ok: false, error: { tag: 'internal-error', val: 'this device cannot make HTTP requests' }, message: 'no host bridge' };
        let result: OutboundResult;
        try {
          result = hostCall(OUTBOUND_HTTP_METHOD, [build()]) as OutboundResult;
        } catch (err) {
          const message = err instanceof Error ? err.message : 'the host did not answer';
          result = { ok: false, error: { tag: 'internal-error', val: message }, message };
        }
        if (!result.ok) warn(`outbound HTTP to ${formatOrigin(origin)} failed: ${result.message}`);
        return result;
      });
      // A request without a body, or whose body is already complete, can go now; otherwise it
      // goes when the body is finished or the guest first looks at the response.
      if (!parts.bodyTaken || parts.bodyFinished()) future.settle();
      else parts.onBodyFinished(() => future.settle());
      return future;
    },
  };
}
