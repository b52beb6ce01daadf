import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ErrorCode } from '../../host-apis/wasi/http-body.js';
import { FORBIDDEN_HEADERS } from '../../host-apis/wasi/http-fields.js';
import type { OutboundHttpGrant } from '../../host-apis/wasi/http-outgoing-handler.js';
import { allowedBy, formatOrigin, parseAllowPattern, requestOrigin } from '../../host-apis/wasi/http-origin.js';
import type { OutboundRequest, OutboundResult } from '../../host-apis/wasi/http-wire.js';
import { AddressRefused, resolveDestination, systemLookup, type Lookup, type ResolvedAddress } from './resolve.js';

export interface OutboundOptions {
  lookup?: Lookup;
  /** Extra CA certificates for https (tests); the system's store otherwise. */
  ca?: string | Buffer;
  /** Called for every refusal by policy (origin, address), for the security log. */
  onRefused?: (origin: string, reason: string) => void;
}

const MAX_RESPONSE_HEADER_BYTES = 32 * 1024;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
const PATH = /^\/[\x21-\x7e]{0,8191}$/;

const failure = (error: ErrorCode, message: string): OutboundResult => ({ ok: false, error, message });

/**
 * One outgoing request for an app, on the main thread: the grant is checked again (nothing the
 * app sent is trusted), the destination address is resolved and checked, then one connection
 * is made to that address. No redirects are followed, no connection is reused, and the
 * response is read in full within the grant's size and time limits.
 */
export async function performOutbound(request: OutboundRequest, grant: OutboundHttpGrant, options: OutboundOptions = {}): Promise<OutboundResult> {
  const origin = requestOrigin(String(request?.scheme), String(request?.authority));
  if (!origin) return failure({ tag: 'HTTP-request-URI-invalid' }, 'not an http(s) origin');
  const where = formatOrigin(origin);
  const pattern = allowedBy(grant.allow.map(parseAllowPattern), origin);
  if (!pattern) {
    options.onRefused?.(where, 'origin not granted');
    return failure({ tag: 'HTTP-request-denied' }, `${where} is not granted`);
  }
  if (!METHOD.test(request.method)) return failure({ tag: 'HTTP-request-method-invalid' }, 'invalid method');
  if (!PATH.test(request.pathWithQuery)) return failure({ tag: 'HTTP-request-URI-invalid' }, 'invalid path');
  if (!(request.body instanceof Uint8Array) || request.body.byteLength > grant.maxRequestBytes) {
    return failure({ tag: 'HTTP-request-body-size', val: BigInt(grant.maxRequestBytes) }, `request body over ${grant.maxRequestBytes} bytes`);
  }

  const started = Date.now();
  const deadline = started + grant.timeoutMs;
  let destination: ResolvedAddress;
  try {
    destination = await withDeadline(resolveDestination(origin, pattern, options.lookup ?? systemLookup), deadline);
  } catch (err) {
    if (err instanceof AddressRefused) {
      if (err.code.tag === 'destination-IP-prohibited') options.onRefused?.(where, err.message);
      return failure(err.code, err.message);
    }
    return failure({ tag: 'DNS-timeout' }, `resolving ${origin.host} took longer than ${grant.timeoutMs} ms`);
  }
  try {
    return await send(request, origin.scheme, origin.host, destination, grant, deadline, options);
  } catch (err) {
    // Node refuses what it cannot send (a header value it rejects): the app's fault, not a crash.
    return failure({ tag: 'HTTP-protocol-error' }, `request refused: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function headersFor(request: OutboundRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers ?? []) {
    const lower = String(name).toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower) || lower === 'content-length') continue;
    const list = (out[lower] ??= []) as string[];
    list.push(Buffer.from(value).toString('latin1'));
  }
  out['host'] = request.authority;
  out['content-length'] = String(request.body.byteLength);
  if (request.body.byteLength === 0 && (request.method === 'GET' || request.method === 'HEAD')) delete out['content-length'];
  return out;
}

function send(
  request: OutboundRequest,
  scheme: 'http' | 'https',
  host: string,
  destination: ResolvedAddress,
  grant: OutboundHttpGrant,
  deadline: number,
  options: OutboundOptions,
): Promise<OutboundResult> {
  // Pinned: whatever the name resolves to now, this connection goes to the checked address.
  const pinned: LookupFunction = (_host, opts, callback) => {
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [destination]);
    else callback(null, destination.address, destination.family);
  };
  return new Promise<OutboundResult>((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: OutboundResult) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      req.destroy();
      resolve(result);
    };
    const timer = (ms: number, code: ErrorCode, what: string) => {
      const t = setTimeout(() => finish(failure(code, what)), Math.max(0, ms));
      timers.push(t);
      return t;
    };
    // A phase limit (connect, first byte, between bytes) only where it ends before the overall
    // deadline: one ending at the same moment would race the overall timer and name the wrong limit.
    const phase = (ms: number | undefined, code: ErrorCode, what: string) =>
      ms !== undefined && Date.now() + ms < deadline ? timer(ms, code, what) : undefined;
    const transport = scheme === 'https' ? https : http;
    const req = transport.request({
      host: host.includes(':') ? destination.address : host,
      port: Number(request.authority.match(/:(\d+)$/)?.[1] ?? (scheme === 'https' ? 443 : 80)),
      method: request.method,
      path: request.pathWithQuery,
      headers: headersFor(request),
      setHost: false,
      agent: false,
      lookup: pinned,
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      ...(scheme === 'https' && options.ca ? { ca: options.ca } : {}),
    });
    timer(deadline - Date.now(), { tag: 'HTTP-response-timeout' }, `no complete response within ${grant.timeoutMs} ms`);
    const connectTimer = phase(request.connectTimeoutMs, { tag: 'connection-timeout' }, 'connect timed out');
    const firstByte = phase(request.firstByteTimeoutMs, { tag: 'HTTP-response-timeout' }, 'no response headers in time');
    req.on('socket', (socket) => socket.once(scheme === 'https' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer)));
    req.on('error', (err) => finish(failure(mapError(err), `request failed: ${err.message}`)));
    req.on('response', (res) => {
      clearTimeout(firstByte);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > grant.maxResponseBytes) {
        finish(
          failure(
            { tag: 'HTTP-response-body-size', val: BigInt(grant.maxResponseBytes) },
            `response declares ${declared} bytes, over the ${grant.maxResponseBytes}-byte limit`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        if (request.betweenBytesTimeoutMs === undefined) return;
        if (idle) clearTimeout(idle);
        idle = phase(request.betweenBytesTimeoutMs, { tag: 'connection-read-timeout' }, 'response body stalled');
      };
      armIdle();
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > grant.maxResponseBytes) {
          finish(
            failure({ tag: 'HTTP-response-body-size', val: BigInt(grant.maxResponseBytes) }, `response body over the ${grant.maxResponseBytes}-byte limit`),
          );
          return;
        }
        chunks.push(chunk);
        armIdle();
      });
      res.on('error', (err) => finish(failure({ tag: 'HTTP-response-incomplete' }, `response ended early: ${err.message}`)));
      res.on('aborted', () => finish(failure({ tag: 'HTTP-response-incomplete' }, 'response ended early')));
      res.on('end', () => {
        const headers: [string, Uint8Array][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!.toLowerCase(), Buffer.from(res.rawHeaders[i + 1]!, 'latin1')]);
        finish({ ok: true, status: res.statusCode ?? 502, headers, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    req.end(Buffer.from(request.body));
  });
}

function mapError(err: Error & { code?: string }): ErrorCode {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return { tag: 'connection-refused' };
  if (code === 'ECONNRESET' || code === 'EPIPE') return { tag: 'connection-terminated' };
  if (code === 'ETIMEDOUT') return { tag: 'connection-timeout' };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { tag: 'destination-unavailable' };
  if (code === 'HPE_HEADER_OVERFLOW') return { tag: 'HTTP-response-header-size', val: { fieldSize: MAX_RESPONSE_HEADER_BYTES } };
  if (code.startsWith('HPE_')) return { tag: 'HTTP-protocol-error' };
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) return { tag: 'TLS-certificate-error' };
  if (code.startsWith('ERR_SSL') || code.includes('TLS')) return { tag: 'TLS-protocol-error' };
  return { tag: 'internal-error', val: code || err.message };
}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('deadline')), Math.max(0, deadline - Date.now()));
    promise.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
