import { BodyGenerator, brokenJson } from './fuzz-bodies.js';
import type { Rng } from './fuzz-rng.js';
import type { CredentialName, FuzzRequest, FuzzTarget, FuzzTargetReady } from './fuzz-types.js';

/** A route to fuzz: a method (or ALL) and a Hono path pattern, on one of the two servers. */
export interface FuzzRoute {
  target: FuzzTarget;
  method: string;
  path: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ODD_METHODS = ['TRACE', 'PROPFIND', 'CONNECT', 'get'];
const CREDENTIALS: CredentialName[] = ['none', 'admin', 'operator', 'vendor', 'otherVendor', 'enrollment', 'device', 'garbage'];

/**
 * The embedded registry dispatches `/v2/*` itself by regular expression (oci/server/routes.ts),
 * so its app.routes say only `/v2/*`: these are the shapes behind it, for the registry and for
 * the control plane's mirror alike.
 */
const REGISTRY_SHAPES: { method: string; path: string }[] = [
  { method: 'GET', path: '/v2/' },
  { method: 'GET', path: '/v2/:name/tags/list' },
  { method: 'GET', path: '/v2/:name/referrers/:digest' },
  { method: 'POST', path: '/v2/:name/blobs/uploads/' },
  { method: 'PATCH', path: '/v2/:name/blobs/uploads/:upload' },
  { method: 'PUT', path: '/v2/:name/blobs/uploads/:upload' },
  { method: 'GET', path: '/v2/:name/blobs/uploads/:upload' },
  { method: 'DELETE', path: '/v2/:name/blobs/uploads/:upload' },
  { method: 'GET', path: '/v2/:name/blobs/:digest' },
  { method: 'HEAD', path: '/v2/:name/blobs/:digest' },
  { method: 'GET', path: '/v2/:name/manifests/:reference' },
  { method: 'PUT', path: '/v2/:name/manifests/:reference' },
];

export function routeKey(r: FuzzRoute): string {
  return `${r.target} ${r.method} ${r.path}`;
}

/** Every (method, pattern) of the control plane's app, plus the registry's shapes on both servers. */
export function routesToFuzz(ready: FuzzTargetReady): FuzzRoute[] {
  const seen = new Set<string>();
  const out: FuzzRoute[] = [];
  const add = (r: FuzzRoute) => {
    const key = routeKey(r);
    if (!seen.has(key)) (seen.add(key), out.push(r));
  };
  for (const r of ready.routes) add({ target: 'control-plane', method: r.method, path: r.path });
  for (const r of REGISTRY_SHAPES) (add({ target: 'registry', ...r }), add({ target: 'control-plane', ...r }));
  return out;
}

/** Values for a path parameter: ones that exist, and hostile ones. */
function hostileSegments(rng: Rng): string[] {
  return [
    '',
    '%00',
    'a%00',
    `${'%00'.repeat(3)}`,
    '%ED%A0%80',
    '%uD800',
    '%C0%AE%C0%AE',
    '..',
    '%2e%2e',
    '..%2F..%2Fetc%2Fpasswd',
    '%2F',
    '%',
    '%zz',
    '%E2%80%AE',
    '%C3%A9',
    '%F0%9F%98%80',
    '%EF%BB%BF',
    'x'.repeat(rng.pick([64, 256, 4096, 9000])),
    '-',
    '-a',
    'a-',
    'A',
    '0',
    '%20',
    '%0D%0A',
    'sha256:',
    `sha256:${'z'.repeat(64)}`,
    `sha512:${'a'.repeat(128)}`,
    'null',
    'undefined',
    '__proto__',
    '%3F',
    '%23',
    ';',
  ];
}

export class RequestFactory {
  private readonly bodies: BodyGenerator;
  private readonly known: string[];

  constructor(
    private readonly rng: Rng,
    private readonly ready: FuzzTargetReady,
    private readonly schemas: Record<string, unknown>,
    /** Per route, the credentials that got past its authentication in the warm-up. */
    private readonly admitted: Map<string, readonly CredentialName[]>,
    private readonly rawFraction: number,
  ) {
    const ids = ready.ids;
    this.known = [ids.vendor, ids.app, ids.version, ids.deployment, ids.device, `${ids.vendor}/meter`, `sha256:${'7'.repeat(64)}`, 'latest', 'approve', 'deny'];
    this.bodies = new BodyGenerator(rng, [ids.vendor, ids.app, ids.version, ids.deployment]);
  }

  make(route: FuzzRoute): FuzzRequest {
    const rng = this.rng;
    const method = this.method(route);
    const credential = this.credential(route);
    const path = this.path(route.path);
    const headers = this.headers(credential);
    const body = this.body(route, method, headers);
    const request: FuzzRequest = { target: route.target, route: `${route.method} ${route.path}`, credential, method, path, headers, ...(body ? { body } : {}) };
    // Raw framing matters where a body is read: mostly there.
    const readsBody = body !== undefined && headers['content-type'] === 'application/json';
    if (rng.chance(readsBody ? this.rawFraction * 3 : this.rawFraction / 2)) request.raw = this.raw(request);
    return request;
  }

  /** Half the time a credential the route admits (so its handler is reached), else any. */
  private credential(route: FuzzRoute): CredentialName {
    const rng = this.rng;
    if (route.target === 'registry') return rng.pick<CredentialName>(['none', 'none', 'admin', 'garbage']);
    const admitted = this.admitted.get(routeKey(route)) ?? [];
    return admitted.length && rng.chance(0.5) ? rng.pick(admitted) : rng.pick(CREDENTIALS);
  }

  private method(route: FuzzRoute): string {
    const rng = this.rng;
    if (rng.chance(0.75)) return route.method === 'ALL' ? rng.pick(METHODS) : route.method;
    return rng.chance(0.9) ? rng.pick(METHODS) : rng.pick(ODD_METHODS);
  }

  /** The route's pattern with each parameter (and `*`) replaced by a known or hostile value. */
  private path(pattern: string): string {
    const rng = this.rng;
    const value = () => (rng.chance(0.35) ? rng.pick(this.known) : rng.pick(hostileSegments(rng)));
    let path = pattern.replace(/:[A-Za-z]+(\{[^}]*\})?\??/g, () => value()).replace(/\*/g, () => Array.from({ length: rng.int(1, 3) }, value).join('/'));
    if (rng.chance(0.05)) path = path.replace(/\/$/, '') + rng.pick(['/', '//', '/..', '/%2e', '/.']);
    if (rng.chance(0.15))
      path += '?' + rng.pick(['n=-1', 'n=99999999999999999999', 'last=%00', 'x=%ED%A0%80', 'a=1&a=2', '=', '&&', `q=${'y'.repeat(5000)}`, 'digest=sha256:zz']);
    // Node's client refuses bytes outside 0x21-0xff in a path: send those percent-encoded.
    return path.replace(/[^\u0021-\u007e]/g, (ch) => encodeURIComponent(ch));
  }

  private headers(credential: CredentialName): Record<string, string> {
    const rng = this.rng;
    const c = this.ready.credentials;
    const headers: Record<string, string> = {};
    const bearer: Partial<Record<CredentialName, string>> = {
      admin: c.admin,
      operator: c.operator,
      vendor: c.vendor,
      otherVendor: c.otherVendor,
      enrollment: c.enrollment,
    };
    if (bearer[credential]) headers.authorization = `Bearer ${bearer[credential]}`;
    if (credential === 'garbage')
      headers.authorization = rng.pick([
        'Bearer ',
        'Bearer x',
        `Bearer ${'A'.repeat(200)}=`,
        'Basic YWRtaW46YWRtaW4=',
        `Bearer ${c.admin}x`,
        'bearer ' + c.admin,
        `Bearer ${'%00'.repeat(10)}abcdefghijkl`,
      ]);
    const type = rng.int(0, 9);
    if (type <= 5) headers['content-type'] = 'application/json';
    else if (type <= 8)
      headers['content-type'] = rng.pick([
        'text/plain',
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=',
        'application/vnd.oci.image.manifest.v1+json',
        'application/octet-stream',
        ';',
        'application/json;;;',
      ]);
    if (rng.chance(0.03)) headers['x-fuzz-pad'] = 'p'.repeat(rng.pick([8_000, 20_000]));
    if (rng.chance(0.03)) for (let i = 0; i < 120; i++) headers[`x-fuzz-${i}`] = String(i);
    if (rng.chance(0.05)) headers.host = rng.pick(['evil.example', 'localhost:1', '[::1]', 'a'.repeat(300)]);
    if (rng.chance(0.05)) headers.accept = rng.pick(['*/*', 'application/vnd.oci.image.index.v1+json', 'text/html', '']);
    if (rng.chance(0.03)) headers.range = rng.pick(['bytes=0-', 'bytes=-1', 'bytes=5-2', 'bytes=0-99999999999999999999', 'lines=1-2']);
    return headers;
  }

  private body(route: FuzzRoute, method: string, headers: Record<string, string>): Buffer | undefined {
    const rng = this.rng;
    const carries = method === 'POST' || method === 'PUT' || method === 'PATCH';
    if (!carries && !rng.chance(0.05)) return undefined;
    const schema = this.schemas[`${method} ${route.path}`] as Record<string, unknown> | undefined;
    const choice = rng.next();
    if (schema && choice < 0.8) {
      if (rng.chance(0.8)) headers['content-type'] = 'application/json';
      return Buffer.from(this.bodies.body(schema));
    }
    if (choice < 0.9) return brokenJson(rng);
    if (choice < 0.95) return Buffer.alloc(0);
    headers['content-type'] ??= 'application/json';
    return Buffer.from(JSON.stringify({ labels: { [this.bodies.hostileString('k')]: this.bodies.hostileString('v') } }));
  }

  /** The request as raw bytes, with what a client library would not send: bad chunk sizes, bad lengths, raw bytes in the path. */
  private raw(r: FuzzRequest): Buffer {
    const rng = this.rng;
    const body = r.body ?? Buffer.from('{}');
    const lines = [`${r.method} ${this.rawPath(r.path)} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
    for (const [k, v] of Object.entries(r.headers)) if (k !== 'host') lines.push(`${k}: ${v}`);
    let tail: Buffer;
    const framing = rng.int(0, 2);
    if (framing === 0) {
      lines.push('transfer-encoding: chunked');
      const chunk = rng.pick([
        'zz\r\n{}\r\n0\r\n\r\n',
        '-1\r\n{}\r\n0\r\n\r\n',
        'fffffffffffffffffffff\r\n{}\r\n',
        '5\r\n{}\r\n0\r\n\r\n',
        '2;x=\u0001\r\n{}\r\n0\r\n\r\n',
        '2\r\n{}0\r\n\r\n',
        '2\r\n{}\r\n',
        '0x2\r\n{}\r\n0\r\n\r\n',
        ' 2\r\n{}\r\n0\r\n\r\n',
        '2\r\n{}\r\n0\r\nx-trailer: \u0000\r\n\r\n',
      ]);
      tail = Buffer.from(chunk, 'latin1');
    } else if (framing === 1) {
      const length = rng.pick([
        '-1',
        'abc',
        '1e3',
        '99999999999999999999',
        ' 2',
        '2, 3',
        '0x10',
        '',
        String(body.length + 100),
        String(Math.max(0, body.length - 1)),
      ]);
      lines.push(`content-length: ${length}`);
      if (rng.chance(0.3)) lines.push(rng.pick([`content-length: ${body.length + 1}`, 'transfer-encoding: chunked']));
      tail = body;
    } else {
      lines.push(`content-length: ${body.length}`);
      tail = body;
    }
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), tail]);
  }

  /** The path with some escapes turned back into the raw bytes no client library would send. */
  private rawPath(path: string): string {
    if (!this.rng.chance(0.4)) return path;
    const raw = this.rng.pick(['\u0000', ' ', '\u00ff', '\u00c3\u00a9', '\u00ed\u00a0\u0080', '\t', '"', '<', '\\', '\u007f']);
    const cut = this.rng.int(1, path.length);
    return path.slice(0, cut) + raw + path.slice(cut);
  }
}
