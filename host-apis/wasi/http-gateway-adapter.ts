/**
 * The app-side half of the device's HTTP gateway: turns the plain request data the gateway
 * sends through `Sandbox.invoke` into `incoming-request` + `response-outparam`, calls the app's
 * `wasi:http/incoming-handler.handle`, and returns what the app set as plain data. It runs
 * wherever the app instance runs, so it is the same for every isolation tier.
 */
import { fail } from './result.js';
import type { ErrorCode } from './http-body.js';
import { IncomingRequest, OutgoingResponse, ResponseOutparam, type IncomingRequestData, type ResponseSetting } from './http-serving.js';

/** The name the gateway invokes; resolved by the app instance to this adapter. */
export const GATEWAY_EXPORT = 'berth:gateway/http#handle';
export const INCOMING_HANDLER_EXPORT = 'wasi:http/incoming-handler#handle';

export interface GatewayRequest extends IncomingRequestData {
  /** Largest response body the gateway will pass on. */
  maxResponseBytes: number;
}

export type GatewayAnswer =
  | { kind: 'response'; status: number; headers: [string, Uint8Array][]; body: Uint8Array }
  /** The app set an error code instead of a response. */
  | { kind: 'error-code'; code: ErrorCode }
  | { kind: 'no-response' }
  | { kind: 'too-large'; limit: number };

type Resolve = (fn: string) => ((...args: unknown[]) => unknown) | undefined;

/** The adapter for `GATEWAY_EXPORT`, or undefined when the app exports no incoming handler. */
export function gatewayAdapter(resolve: Resolve): ((request: GatewayRequest) => GatewayAnswer) | undefined {
  const handle = resolve(INCOMING_HANDLER_EXPORT);
  if (!handle) return undefined;
  return (request) => {
    if (!request || typeof request.method !== 'string' || !(request.body instanceof Uint8Array)) fail('malformed gateway request');
    let setting: ResponseSetting | undefined;
    const outparam = new ResponseOutparam((r) => (setting = r));
    ResponseOutparam.serving(request.maxResponseBytes, () => handle(new IncomingRequest(request), outparam));
    if (!setting) return { kind: 'no-response' };
    if (setting.tag === 'err') return { kind: 'error-code', code: setting.val };
    const { status, headers, sink } = OutgoingResponse.parts(setting.val);
    if (sink?.overflowed) return { kind: 'too-large', limit: request.maxResponseBytes };
    return { kind: 'response', status, headers, body: sink ? sink.bytes() : new Uint8Array(0) };
  };
}
