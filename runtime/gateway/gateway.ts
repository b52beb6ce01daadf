import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { FORBIDDEN_HEADERS } from '../../host-apis/wasi/http-fields.js';
import { GATEWAY_EXPORT, type GatewayRequest } from '../../host-apis/wasi/http-gateway-adapter.js';
import type { InvokeOutcome } from '../sandbox/protocol.js';
import { problem, toClientAnswer, type ClientAnswer } from './answer.js';
import { RouteTable } from './routes.js';

/** One app served under a route prefix: anything that can invoke it (a Sandbox, a supervisor). */
export interface GatewayApp {
  /** vendor/app, for logs. */
  name: string;
  route: string;
  maxRequestBytes: number;
  maxResponseBytes: number;
  timeoutMs: number;
  invoke(fn: string, args: unknown[]): Promise<InvokeOutcome>;
}

export interface GatewayOptions {
  /** Loopback by default; a device exposes the gateway deliberately. */
  host?: string;
  port?: number;
  /** Total size of a request's header section (Node answers 431 past it). */
  maxHeaderBytes?: number;
  /** Requests waiting for or inside one app at once; more get 503. */
  maxInFlightPerApp?: number;
  logger?: Logger;
}

const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/**
 * The device's inbound HTTP gateway: maps route prefixes (from `inbound-http` grants) to apps
 * and calls each app's `wasi:http/incoming-handler` through its sandbox. Every way an app can
 * fail becomes an HTTP status; none reaches this process (docs/http.md).
 */
export class HttpGateway {
  private readonly routes = new RouteTable<GatewayApp>();
  private readonly inFlight = new Map<GatewayApp, number>();
  private readonly server: http.Server;
  private readonly logger: Logger;

  constructor(private readonly options: GatewayOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.server = http.createServer(
      { maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 },
      (req, res) => void this.serve(req, res),
    );
  }

  /** Serves `app` under its route; refused if the route overlaps one already served. Returns the undo. */
  addApp(app: GatewayApp): () => void {
    this.routes.add(app.route, app);
    return () => this.routes.remove(app.route, app);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let answer: ClientAnswer;
    try {
      answer = await this.route(req);
    } catch (err) {
      answer = problem(500, 'the gateway failed');
      this.logger.error({ err: errorMessage(err) }, 'gateway failure');
    }
    if (answer.problem)
      this.logger.warn(
        { method: req.method, url: req.url, status: answer.status, app: this.routes.match((req.url ?? '').split('?')[0]!)?.target.name },
        `gateway: ${answer.problem}`,
      );
    if (res.headersSent || res.destroyed) return;
    try {
      res.writeHead(answer.status, [...answer.headers.flat(), 'content-length', String(Buffer.byteLength(answer.body))]);
      res.end(answer.body);
    } catch (err) {
      res.destroy();
      this.logger.warn({ err: errorMessage(err) }, 'gateway: could not send the answer');
    }
    // A body we refused to read is not drained: the connection is not reused.
    if (!req.complete) res.on('finish', () => req.destroy());
  }

  private async route(req: http.IncomingMessage): Promise<ClientAnswer> {
    const url = req.url ?? '';
    if (!url.startsWith('/')) return problem(400, 'the request target must be an absolute path');
    const path = url.split('?')[0]!;
    if (DOT_SEGMENT.test(path) || path.includes('//')) return problem(400, 'the request path has empty, . or .. segments');
    const match = this.routes.match(path);
    if (!match) return problem(404, `no app is served at ${path}`);
    const app = match.target;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!Number.isFinite(declared) || declared > app.maxRequestBytes) return problem(413, `the request body is over the ${app.maxRequestBytes}-byte limit`);
    const body = await readBody(req, app.maxRequestBytes);
    if (!body) return problem(413, `the request body is over the ${app.maxRequestBytes}-byte limit`);

    // Counted until the app's invocation settles, not until the client got its 504: requests
    // queued behind a stuck instance stay bounded until the sandbox's deadline ends it.
    const busy = this.inFlight.get(app) ?? 0;
    if (busy >= (this.options.maxInFlightPerApp ?? 16)) return problem(503, 'the app is busy');
    this.inFlight.set(app, busy + 1);
    const request: GatewayRequest = {
      method: req.method ?? 'GET',
      pathWithQuery: url,
      authority: req.headers.host ?? '',
      headers: appHeaders(req),
      body,
      maxResponseBytes: app.maxResponseBytes,
    };
    const invocation = Promise.resolve()
      .then(() => app.invoke(GATEWAY_EXPORT, [request]))
      .finally(() => this.inFlight.set(app, (this.inFlight.get(app) ?? 1) - 1));
    const outcome = await withTimeout(invocation, app.timeoutMs);
    if (!outcome) return problem(504, `the app did not answer within ${app.timeoutMs} ms`);
    return toClientAnswer(outcome);
  }
}

/** The whole body, or undefined once it passes `limit` (reading stops there). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', () => resolve(undefined));
    // A client that goes away mid-body never sends 'end': settle rather than wait forever.
    req.on('close', () => resolve(undefined));
  });
}

function appHeaders(req: http.IncomingMessage): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (FORBIDDEN_HEADERS.has(name)) continue;
    out.push([name, Buffer.from(req.rawHeaders[i + 1]!, 'latin1')]);
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      () => (clearTimeout(timer), resolve(undefined)),
    );
  });
}
