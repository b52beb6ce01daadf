import type { GatewayAnswer } from '../../host-apis/wasi/http-gateway-adapter.js';
import type { InvokeOutcome } from '../sandbox/protocol.js';

/** What the gateway sends its client, from an app's answer or failure. */
export interface ClientAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array | string;
  /** For the gateway's log: why the app's answer was not passed on. */
  problem?: string;
}

/** Headers that describe the connection, not the message: the gateway sets its own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'http2-settings',
]);

export function problem(status: number, detail: string): ClientAnswer {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: `${detail}\n`, problem: detail };
}

/** Maps an invocation's outcome to the client's answer. Nothing the app returns is trusted. */
export function toClientAnswer(outcome: InvokeOutcome): ClientAnswer {
  if (!outcome.ok) {
    const f = outcome.failure;
    if (f.kind === 'sandbox-stopped' && f.reason === 'deadline') return problem(504, 'the app did not answer in time');
    if (f.kind === 'sandbox-stopped' && f.reason === 'stopped') return problem(503, 'the app is not running');
    if (f.kind === 'no-such-export') return problem(502, 'the app does not serve HTTP');
    return problem(502, `the app failed: ${f.kind}`);
  }
  const answer = outcome.value as GatewayAnswer | undefined;
  switch (answer?.kind) {
    case 'response':
      break;
    case 'too-large':
      return problem(502, `the app's response is over the ${answer.limit}-byte limit`);
    case 'error-code':
      return problem(502, `the app answered with error ${String(answer.code?.tag)}`);
    case 'no-response':
      return problem(502, 'the app returned without a response');
    default:
      return problem(502, 'the app answered with something that is not a response');
  }
  const status = Number(answer.status);
  if (!Number.isInteger(status) || status < 200 || status > 599 || !(answer.body instanceof Uint8Array)) {
    return problem(502, 'the app answered with an invalid response');
  }
  const headers: [string, string][] = [];
  for (const entry of Array.isArray(answer.headers) ? answer.headers : []) {
    const [name, value] = entry ?? [];
    if (typeof name !== 'string' || !(value instanceof Uint8Array) || HOP_BY_HOP.has(name.toLowerCase())) continue;
    const text = Buffer.from(value).toString('latin1');
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(text)) continue;
    headers.push([name, text]);
  }
  return { status, headers, body: answer.body };
}
