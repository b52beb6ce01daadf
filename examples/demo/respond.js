// Shared by both sample apps: answer a wasi:http request with a JSON body. (componentize-js
// bundles each app's imports, so both apps carry their own copy.)
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.12';

const encoder = new TextEncoder();

export function respondJson(responseOut, status, value) {
  const bytes = encoder.encode(JSON.stringify(value) + '\n');
  const response = new OutgoingResponse(Fields.fromList([['content-type', encoder.encode('application/json')]]));
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(bytes);
  stream[Symbol.dispose]?.();
  OutgoingBody.finish(body, undefined);
}

/** A host error (`result` err) as `tag` or `tag(value)`. */
export function describe(err) {
  const e = err && typeof err === 'object' && 'payload' in err ? err.payload : err;
  if (e && typeof e === 'object' && 'tag' in e) return e.val === undefined ? e.tag : `${e.tag}(${e.val})`;
  return String(e);
}
