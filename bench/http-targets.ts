import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEMO_GRANTS } from '../cli/demo/grants.js';
import { BerthError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { HttpGateway } from '../runtime/gateway/gateway.js';
import { serveSupervisedApp } from '../runtime/gateway/supervised.js';
import { Runtime } from '../runtime/runtime.js';
import type { EngineKind } from '../wire/engine.js';
import type { Tier } from '../wire/tier.js';
import { BENCH_ENGINES, benchEngine } from './engines.js';

/** An engine this benchmark can run apps on. */
export type BenchEngine = EngineKind;

/** The engines measured, in the order they are reported: the one place a new engine is added. */
export function benchEngines(): BenchEngine[] {
  return [...BENCH_ENGINES];
}

/** Issue 13: an app serving HTTP on Wasmtime serves at least this share of the bare handler's requests/s. */
export const WASMTIME_SHARE_TARGET = 0.25;

/**
 * The apps served: the demo's sensor (a 12 MiB JavaScript component: a JavaScript engine runs in
 * the guest) and `hello` (the test fixture http-hello.wat: no language runtime, so what is
 * measured is the gateway, the sandbox and the engine).
 */
export const HTTP_APPS = ['sensor', 'hello'] as const;
export type HttpApp = (typeof HTTP_APPS)[number];

/** An app ready to serve: its component, grants and the path the load asks for. */
export interface BenchApp {
  name: HttpApp;
  component: Uint8Array;
  vendor: string;
  grants: Record<string, unknown>;
  path: string;
}

/** One app target: an app on an engine, in an isolation tier, behind the gateway. */
export interface AppTarget {
  app: BenchApp;
  engine: BenchEngine;
  tier: Tier;
}

/** Something answering HTTP on loopback, ready for load. */
export interface Served {
  port: number;
  close(): Promise<void>;
}

/** The route the sensor app's `inbound-http` grant gives it in the demo (cli/demo/grants.ts). */
export const SENSOR_ROUTE = DEMO_GRANTS.sensor.grants['inbound-http'].route;
/** Where `hello` is served, and what is asked of it. */
export const HELLO_ROUTE = '/hello';

export function sensorApp(component: Uint8Array, path: string): BenchApp {
  const { vendor, grants } = DEMO_GRANTS.sensor;
  return { name: 'sensor', component, vendor, grants, path };
}

export function helloApp(component: Uint8Array): BenchApp {
  return { name: 'hello', component, vendor: 'bench', grants: { 'inbound-http': { route: HELLO_ROUTE } }, path: `${HELLO_ROUTE}/` };
}

/**
 * A device runtime on `engine`: the one place the benchmark chooses how to run an engine. The
 * compiled sensor app is kept in `cacheDir`, shared by the runtimes of one engine (one per tier),
 * so it is compiled once per engine and run.
 */
async function runtimeOn(engine: BenchEngine, dataDir: string, cacheDir: string): Promise<Runtime> {
  if (!benchEngines().includes(engine))
    throw new BerthError('bench.unknown-engine', `no engine '${String(engine)}' to benchmark; engines: ${benchEngines().join(', ')}`);
  return new Runtime({ dataDir, engine: await benchEngine(engine, cacheDir), logger: silentLogger });
}

/**
 * An app with its grants, in `target.tier` on `target.engine`, served by the device gateway
 * exactly as the agent serves it (serveSupervisedApp); resolves once its path answered 200.
 */
export async function serveApp(target: AppTarget, scratch: string): Promise<Served> {
  const runtime = await runtimeOn(target.engine, join(scratch, `${target.app.name}-${target.engine}-${target.tier}`), join(scratch, `${target.engine}-cache`));
  const gateway = new HttpGateway({ logger: silentLogger });
  const close = async () => {
    await gateway.close();
    await runtime.close();
  };
  try {
    const { app } = target;
    const supervisor = await runtime.startApp(app.component, { vendor: app.vendor, app: app.name, grants: app.grants, tier: target.tier });
    const { state, lastStop } = supervisor.status();
    if (state !== 'running')
      throw new BerthError('bench.target-not-running', `the ${app.name} app did not start on ${target.engine}/${target.tier}: ${lastStop?.message ?? state}`);
    serveSupervisedApp(gateway, supervisor);
    const port = await gateway.listen();
    await answers(port, app.path);
    return { port, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/**
 * A bare Node `http` handler answering the same request with a body of the same shape as the
 * sensor's reading: what serving HTTP from Node costs without an app, a sandbox or a gateway.
 */
export async function serveBare(): Promise<Served> {
  let celsius = 21.5;
  let seq = 0;
  const server = http.createServer((_req, res) => {
    celsius = Math.round((celsius + Math.random() - 0.5) * 100) / 100;
    const body = `${JSON.stringify({ sensor: 'acme/sensor', celsius, takenAt: Math.floor(Date.now() / 1000), seq: ++seq, published: 'ok' })}\n`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as AddressInfo).port, close };
}

async function answers(port: number, path: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  if (res.status !== 200) throw new BerthError('bench.target-not-answering', `GET ${path} answered ${res.status}: ${body.slice(0, 200)}`);
}
