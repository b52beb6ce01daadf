/**
 * `wasi:http/types` as jco's glue looks it up. The resource classes hold no authority (a request
 * only leaves through the per-instance `outgoing-handler`), so one object serves every app in a
 * thread, and the gateway adapter can create resources the glue accepts as its own.
 */
import { FutureTrailers, httpErrorCode, IncomingBody, OutgoingBody } from './http-body.js';
import { Fields } from './http-fields.js';
import { FutureIncomingResponse, IncomingResponse, OutgoingRequest, RequestOptions } from './http-outgoing.js';
import { IncomingRequest, OutgoingResponse, ResponseOutparam } from './http-serving.js';

export const httpTypesHost = Object.freeze({
  Fields,
  IncomingRequest,
  OutgoingRequest,
  RequestOptions,
  ResponseOutparam,
  IncomingResponse,
  IncomingBody,
  FutureTrailers,
  OutgoingResponse,
  OutgoingBody,
  FutureIncomingResponse,
  httpErrorCode,
});
