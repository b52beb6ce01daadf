import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pushComponent, type AttachedBundle } from '../../oci/artifact.js';
import { sha256Digest } from '../../common/digest.js';
import { CYCLONEDX_BOM_PREDICATE } from '../../trust/signing/sbom-attestation.js';
import { statementAbout } from '../../trust/signing/statement.js';
import { RegistryClient } from '../../oci/client.js';
import { createLogger } from '../../common/logger.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from '../../runtime/agent/config.js';
import type { DeploymentChange } from '../../runtime/agent/reconciler.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { serializeBundle, signComponent, signStatement } from '../../trust/signing/sign.js';
import { fixturePath } from '../fixtures/build.js';
import type { ControlPlaneOptions } from '../../orchestrator/control-plane.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Polls `check` until it returns something truthy, at most `timeoutMs`; throws naming `what`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A component's bytes with a custom section appended: the same app, another digest. */
export function variant(bytes: Uint8Array, tag: string): Uint8Array {
  const name = Buffer.from('berth-test-variant');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  if (payload.length > 127) throw new Error('tag too long');
  return Buffer.concat([Buffer.from(bytes), Buffer.from([0, payload.length]), payload]);
}

export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fixturePath(name)));

/**
 * A control plane (real TLS, PGlite), a real registry (Debian docker-registry, plain HTTP on
 * loopback) and vendor `acme` whose trust policy holds one signing key.
 */
export interface World {
  h: Harness;
  registry: TestRegistry;
  dir: string;
  vendorPrivateKeyPem: string;
  /** Signs with the vendor key, pushes, and adds the version through the catalog API (admission verifies it). */
  publish(
    app: string,
    version: string,
    component: Uint8Array,
    o?: { signWith?: string; sbom?: Record<string, unknown> },
  ): Promise<{ digest: string; componentDigest: string }>;
  deploy(body: Record<string, unknown>): Promise<void>;
  /** Closes the control plane (an outage) and, when asked, starts it again on the same port and data. */
  stopControlPlane(): Promise<void>;
  startControlPlane(): Promise<void>;
  status(deploymentId: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startWorld(cp: Partial<ControlPlaneOptions> = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-agent-'));
  const registry = await startRegistry();
  const cpOptions = { ...cp, dataDir: join(dir, 'cp'), registries: { [registry.host]: { plainHttp: true } } };
  let h = await startHarness(cpOptions);
  const port = h.cp.port;
  let cpRunning = true;
  const vendor = generateVendorKey();
  const namespace = `${registry.host.replace(/[.]/g, '\\.')}/acme/.+`;
  const created = await h.admin('POST', '/api/v1/catalog/vendors', {
    name: 'acme',
    trustPolicy: { vendor: 'acme', publicKeys: [vendor.publicKeyPem], repositories: [namespace] },
  });
  if (created.status !== 201) throw new Error(`vendor refused: ${created.status} ${JSON.stringify(created.body)}`);
  const client = new RegistryClient(registry.host, { plainHttp: true });
  const apps = new Set<string>();
  const world: World = {
    get h() {
      return h;
    },
    registry,
    dir,
    vendorPrivateKeyPem: vendor.privateKeyPem,
    async publish(app, version, component, o = {}) {
      const key = loadPrivateKey(o.signWith ?? vendor.privateKeyPem);
      const bundles: AttachedBundle[] = [{ kind: 'message-signature', bytes: serializeBundle(signComponent(component, key)) }];
      // A CycloneDX document, signed as berth attest --sbom signs it.
      if (o.sbom) {
        const statement = statementAbout(`${app}.wasm`, sha256Digest(component), CYCLONEDX_BOM_PREDICATE, o.sbom);
        bundles.push({ kind: 'dsse-envelope', predicateType: CYCLONEDX_BOM_PREDICATE, bytes: serializeBundle(signStatement(statement, key)) });
      }
      const pushed = await pushComponent(client, `acme/${app}`, version, component, bundles);
      if (!apps.has(app)) {
        const a = await h.admin('POST', '/api/v1/catalog/apps', { id: app, vendor: 'acme' });
        if (a.status !== 201) throw new Error(`app refused: ${a.status} ${JSON.stringify(a.body)}`);
        apps.add(app);
      }
      // Admission pulls and verifies it from the registry, as for any vendor.
      const v = await h.admin('POST', `/api/v1/catalog/apps/${app}/versions`, {
        version,
        component: { reference: `oci://${registry.host}/acme/${app}:${version}` },
      });
      if (v.status !== 201) throw new Error(`version refused: ${v.status} ${JSON.stringify(v.body)}`);
      return { digest: pushed.manifestDigest, componentDigest: pushed.componentDigest };
    },
    async deploy(body) {
      const answer = await h.admin('POST', '/api/v1/admin/deployments', body);
      if (answer.status !== 201) throw new Error(`deployment refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    },
    async stopControlPlane() {
      await h.cp.close();
      cpRunning = false;
    },
    async startControlPlane() {
      h = await startHarness({ ...cpOptions, port });
      cpRunning = true;
    },
    async status(deploymentId) {
      return (await h.admin('GET', `/api/v1/admin/deployments/${deploymentId}/status`)).body;
    },
    async stop() {
      if (cpRunning) await h.stop();
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export type LogLine = Record<string, any>;

/** A `berth device start` child process with its JSON log lines collected. */
export interface AgentProcess {
  name: string;
  dataDir: string;
  configPath: string;
  logs: LogLine[];
  child: ChildProcess;
  exited: Promise<number | null>;
  waitForLog(match: (l: LogLine) => boolean, what: string, timeoutMs?: number, from?: number): Promise<LogLine>;
  gatewayPort(): Promise<number>;
  stop(): Promise<number | null>;
}

export interface AgentSetup {
  name: string;
  dataDir?: string;
  machineId?: string;
  token?: string;
  overrides?: Partial<AgentConfigInput>;
  /** The agent process's environment (default: this one's). */
  env?: NodeJS.ProcessEnv;
}

/** Writes a config and starts the agent as its own process: `node bin/berth.js device start --config …`. */
export async function startAgentProcess(world: World, s: AgentSetup): Promise<AgentProcess> {
  const dataDir = s.dataDir ?? join(world.dir, `agent-${s.name}`);
  const caFile = join(world.dir, 'fleet-ca.pem');
  writeFileSync(caFile, world.h.ca.join('\n'));
  const machineIdFile = join(world.dir, `machine-id-${s.name}`);
  writeFileSync(machineIdFile, (s.machineId ?? randomBytes(16).toString('hex')) + '\n');
  const token = s.token ?? (await world.h.enrollmentToken({ deviceId: s.name }));
  const config: AgentConfigInput = {
    controlPlane: { url: world.h.cp.url, ca: caFile },
    dataDir,
    onboarding: { credential: { kind: 'token', token }, deviceId: s.name },
    labels: { site: 'test', name: s.name },
    artifacts: { source: 'registry', registries: { [world.registry.host]: { plainHttp: true } } },
    gateway: { host: '127.0.0.1', port: 0, enabled: true },
    sync: { longPollSeconds: 5, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, renewalFraction: 0.5, usageLogSeconds: 2 },
    nodeLock: { machineIdFile },
    // A short health window, so an update is reported installed soon (docs/agent.md, "Last-known-good").
    lastKnownGood: { windowSeconds: 1, maxRestarts: 3 },
    logLevel: 'debug',
    ...s.overrides,
  };
  const configPath = join(world.dir, `agent-${s.name}-${Date.now()}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return spawnAgent(s.name, dataDir, configPath, s.env);
}

/** An agent in this process (`startAgent`), its log lines and deployment changes collected. */
export interface InProcessAgent {
  agent: RunningAgent;
  config: AgentConfig;
  lines: LogLine[];
  changes: DeploymentChange[];
}

/** Onboards `name` with a fresh token and starts it in this process, pulling from the control plane's mirror. */
export async function startInProcessAgent(world: World, name: string, overrides: Partial<AgentConfigInput> = {}): Promise<InProcessAgent> {
  const caFile = join(world.dir, `ca-${name}.pem`);
  writeFileSync(caFile, world.h.ca.join('\n'));
  const machineIdFile = join(world.dir, `machine-id-${name}`);
  writeFileSync(machineIdFile, randomBytes(16).toString('hex'));
  const config = parseAgentConfig({
    controlPlane: { url: world.h.cp.url, ca: caFile },
    dataDir: join(world.dir, `in-process-${name}`),
    onboarding: { credential: { kind: 'token', token: await world.h.enrollmentToken({ deviceId: name }) }, deviceId: name },
    artifacts: { source: 'mirror' },
    gateway: { port: 0 },
    sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1 },
    nodeLock: { machineIdFile },
    lastKnownGood: { windowSeconds: 1, maxRestarts: 3 },
    ...overrides,
  });
  const lines: LogLine[] = [];
  const agent = await startAgent(config, { logger: createLogger({ name, level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) });
  const changes: DeploymentChange[] = [];
  agent.events.on('change', (c) => changes.push(c));
  return { agent, config, lines, changes };
}

/** `env`: the agent process's environment (e.g. a libfaketime preload that moves its clock). */
export function spawnAgent(name: string, dataDir: string, configPath: string, env: NodeJS.ProcessEnv = process.env): AgentProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/berth.js'), 'device', 'start', '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const logs: LogLine[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      logs.push({ msg: line, raw: true });
    }
  });
  const errLines = createInterface({ input: child.stderr! });
  errLines.on('line', (line) => logs.push({ msg: line, stderr: true }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const agent: AgentProcess = {
    name,
    dataDir,
    configPath,
    logs,
    child,
    exited,
    async waitForLog(match, what, timeoutMs = 30_000, from = 0) {
      return waitFor(
        () => {
          const found = logs.slice(from).find(match);
          if (!found && exitCode !== undefined)
            throw new Error(
              `agent ${name} exited (${exitCode}) before ${what}:\n${logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            );
          return found;
        },
        timeoutMs,
        `${what} (agent ${name})`,
      );
    },
    async gatewayPort() {
      return (await agent.waitForLog((l) => l.msg === 'device agent started', 'agent start')).gatewayPort as number;
    },
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return agent;
}

/** Copies an agent's data directory (what an attacker with the disk would do). */
export function copyDataDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
