import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createLogger } from '../../common/logger.js';
import { createEnrollmentToken, createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../orchestrator/control-plane.js';
import { OpenApiConformance } from '../support/openapi-conformance.js';

/**
 * Every answer `call` receives from a control plane started by startHarness must conform to the
 * OpenAPI document (an operation described for the method and path, a declared status and
 * content type, a JSON body valid against its schema); otherwise the call rejects, failing the
 * test that made it. docs/openapi.md, "Conformance". Made at the first checked answer (the
 * document and its validators are built once per test file).
 */
let conformance: OpenApiConformance | undefined;
/** The control planes this file's harnesses started: only their answers are checked. */
const controlPlaneOrigins = new Set<string>();

/** A control plane on 127.0.0.1 in its own temp dir, with its audit log captured for assertions. */
export interface Harness {
  cp: ControlPlane;
  dir: string;
  ca: string[];
  adminToken: string;
  logs: Record<string, unknown>[];
  events(name: string): Record<string, unknown>[];
  enrollmentToken(opts?: { deviceId?: string; labels?: Record<string, string>; ttlSeconds?: number }): Promise<string>;
  admin(method: string, path: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  reused?: boolean;
  localPort?: number | undefined;
}

export async function startHarness(options: Partial<ControlPlaneOptions> = {}): Promise<Harness> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-cp-'));
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'test-cp', level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const cp = await startControlPlane({ trustDomain: 'fleet.test', ...options, dataDir: dir, logger });
  controlPlaneOrigins.add(new URL(cp.url).origin);
  const { token: adminToken } = await createOperatorToken(cp.deps.store, logger, { name: 'test admin', role: 'admin', by: 'test' });
  const h: Harness = {
    cp,
    dir,
    get ca() {
      return cp.deps.authority.roots().map((r) => r.toString('pem'));
    },
    adminToken,
    logs,
    events: (name) => logs.filter((l) => l.security === true && l.event === name),
    async enrollmentToken(opts = {}) {
      const t = await createEnrollmentToken(cp.deps.store, logger, {
        ttlSeconds: opts.ttlSeconds ?? 600,
        deviceId: opts.deviceId,
        labels: opts.labels,
        by: 'test',
      });
      return t.token;
    },
    admin: (method, path, body) =>
      call(cp.url + path, { method, ca: h.ca, headers: { authorization: `Bearer ${adminToken}` }, ...(body === undefined ? {} : { json: body }) }),
    async stop() {
      await cp.close();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export interface CallOptions {
  method?: string;
  ca: string | string[];
  key?: string;
  cert?: string;
  agent?: Agent | false;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string | Buffer;
}

/** One HTTPS request; reports whether the TLS session was resumed and parses JSON answers. */
export function call(url: string, o: CallOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = o.raw ?? (o.json === undefined ? undefined : JSON.stringify(o.json));
    const headers: Record<string, string> = { ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
    const req = request(
      url,
      { method: o.method ?? 'GET', ca: o.ca, key: o.key, cert: o.cert, agent: o.agent ?? false, headers, minVersion: 'TLSv1.3' },
      (res) => {
        const socket = res.socket as TLSSocket;
        const reused = socket.isSessionReused();
        const localPort = socket.localPort;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          let json: unknown;
          try {
            parsed = json = JSON.parse(text);
          } catch {
            /* not JSON: keep the text */
          }
          const target = new URL(url);
          if (controlPlaneOrigins.has(target.origin)) {
            conformance ??= new OpenApiConformance();
            const contentType = res.headers['content-type'];
            const mismatch = conformance.mismatch({ method: o.method ?? 'GET', path: target.pathname, status: res.statusCode ?? 0, contentType, text, json });
            if (mismatch) return reject(new Error(`OpenAPI conformance: ${mismatch}`));
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, reused, localPort });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
