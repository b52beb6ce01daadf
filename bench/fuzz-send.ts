import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FuzzOutcome, FuzzRequest, FuzzTargetReady } from './fuzz-types.js';

/**
 * Sends fuzz requests to the control plane (HTTPS, the device's client certificate for the
 * `device` credential) or the registry (plain HTTP), through kept-alive agents, or as raw bytes
 * on a fresh socket. Every request has a deadline: no answer and no close by then is a hang.
 */
export class FuzzSender {
  private readonly plain: HttpsAgent;
  private readonly device: HttpsAgent;
  private readonly registry: HttpAgent;
  private readonly cp: URL;
  private readonly reg: URL;

  constructor(
    private readonly ready: FuzzTargetReady,
    private readonly deadlineMs: number,
    sockets: number,
  ) {
    const { keyPem, certificatePem } = ready.credentials.device;
    this.plain = new HttpsAgent({ keepAlive: true, maxSockets: sockets, ca: ready.ca });
    this.device = new HttpsAgent({ keepAlive: true, maxSockets: sockets, ca: ready.ca, key: keyPem, cert: certificatePem });
    this.registry = new HttpAgent({ keepAlive: true, maxSockets: sockets });
    this.cp = new URL(ready.controlPlaneUrl);
    this.reg = new URL(ready.registryUrl);
  }

  send(r: FuzzRequest): Promise<FuzzOutcome> {
    return r.raw ? this.sendRaw(r, r.raw) : this.sendHttp(r);
  }

  close(): void {
    this.plain.destroy();
    this.device.destroy();
    this.registry.destroy();
  }

  private sendHttp(r: FuzzRequest): Promise<FuzzOutcome> {
    const toRegistry = r.target === 'registry';
    const base = toRegistry ? this.reg : this.cp;
    const agent = toRegistry ? this.registry : r.credential === 'device' ? this.device : this.plain;
    const headers = { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) };
    const options = { host: base.hostname, port: base.port, method: r.method, path: r.path, headers, agent, servername: toRegistry ? undefined : 'localhost' };
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: FuzzOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      let req: ReturnType<typeof httpRequest>;
      try {
        req = (toRegistry ? httpRequest : httpsRequest)(options, (res) => readAnswer(res, r.method).then(done));
      } catch (err) {
        // The client library refused to send it (a header or path it will not write).
        resolve({ closed: `client: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return;
      }
      const timer = setTimeout(() => {
        done({ hang: true });
        req.destroy();
      }, this.deadlineMs);
      req.on('error', (err: NodeJS.ErrnoException) => done({ closed: err.code ?? err.message }));
      req.on('socket', guard);
      // An answer to CONNECT (or an upgrade) comes as these events, never as 'response'.
      const tunnel = (res: IncomingMessage, socket: Socket) => {
        socket.destroy();
        done({ status: res.statusCode ?? 0 });
      };
      req.on('connect', tunnel);
      req.on('upgrade', tunnel);
      req.end(r.body);
    });
  }

  private sendRaw(r: FuzzRequest, bytes: Buffer): Promise<FuzzOutcome> {
    const toRegistry = r.target === 'registry';
    const base = toRegistry ? this.reg : this.cp;
    const port = Number(base.port);
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const socket: Socket = toRegistry
        ? netConnect({ host: base.hostname, port })
        : tlsConnect({
            host: base.hostname,
            port,
            ca: this.ready.ca,
            servername: 'localhost',
            ...(r.credential === 'device' ? { key: this.ready.credentials.device.keyPem, cert: this.ready.credentials.device.certificatePem } : {}),
          });
      const done = (o: FuzzOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(o);
      };
      const timer = setTimeout(() => done(answerOf(Buffer.concat(chunks)) ?? { hang: true }), this.deadlineMs);
      socket.once(toRegistry ? 'connect' : 'secureConnect', () => socket.end(bytes));
      // `connection: close` is sent: the answer is complete when the server closes.
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', (err: NodeJS.ErrnoException) => done(answerOf(Buffer.concat(chunks)) ?? { closed: err.code ?? err.message }));
      socket.on('close', () => done(answerOf(Buffer.concat(chunks)) ?? { closed: 'closed without an answer' }));
    });
  }
}

const guarded = new WeakSet<Socket>();

/**
 * A server that closes the connection while a large body is still being written makes the
 * socket emit EPIPE/ECONNRESET after the request has let go of it: expected here, not a crash
 * of the fuzzer.
 */
function guard(socket: Socket): void {
  if (guarded.has(socket)) return;
  guarded.add(socket);
  socket.on('error', () => {});
}

/** Status and problem code of an HTTP answer read from raw bytes, if a status line has arrived. */
function answerOf(bytes: Buffer): FuzzOutcome | undefined {
  const text = bytes.toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m) return undefined;
  const code = /"code":"([^"]{1,100})"/.exec(text)?.[1];
  return { status: Number(m[1]), ...(code ? { code } : {}) };
}

async function readAnswer(res: IncomingMessage, method: string): Promise<FuzzOutcome> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of res) {
      if (size < 65_536) chunks.push(c as Buffer);
      size += (c as Buffer).length;
    }
  } catch {
    // An answer cut short still has its status.
  }
  const status = res.statusCode ?? 0;
  if (method === 'HEAD' || chunks.length === 0) return { status };
  const code = problemCode(Buffer.concat(chunks).toString('utf8'));
  return { status, ...(code ? { code } : {}) };
}

/** A problem document's `code`, or an OCI error body's first `errors[].code`. */
function problemCode(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as { code?: unknown; errors?: { code?: unknown }[] };
    if (typeof doc.code === 'string') return doc.code;
    const oci = doc.errors?.[0]?.code;
    return typeof oci === 'string' ? oci : undefined;
  } catch {
    return undefined;
  }
}
