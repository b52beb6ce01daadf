import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { AdoptedStateStore } from '../../runtime/agent/adopted-state.js';
import { ArtifactStore } from '../../runtime/agent/artifact-store.js';
import { Backoff } from '../../runtime/agent/backoff.js';
import { loadAgentConfig, parseAgentConfig } from '../../runtime/agent/config.js';
import { answerError, retryAfterSeconds, type ControlPlaneClient, type RawAnswer } from '../../runtime/agent/control-plane-client.js';
import { planFromDocument } from '../../runtime/agent/deployment-plan.js';
import { deviceEngineOf, selectDeviceEngine } from '../../runtime/agent/engine.js';
import { defaultEngineChoice } from '../../runtime/engine/choice.js';
import { checkBinding, recordBinding } from '../../runtime/agent/node-lock.js';
import { StatusQueue, type StatusReport } from '../../runtime/agent/status-queue.js';
import { waitFor } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-agent-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines: Record<string, any>[] = [];
const logger = createLogger({ name: 't', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });

const minimal = { controlPlane: { url: 'https://cp.example:8443', ca: 'ca.pem' }, dataDir: 'data' };

describe('agent configuration', () => {
  it('fills defaults and resolves paths against the file', async () => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'controlPlane:\n  url: https://cp.example:8443\n  ca: ca.pem\ndataDir: data\nlabels:\n  site: north\n');
    const c = await loadAgentConfig(file);
    expect(c.controlPlane.ca).toBe(join(dir, 'ca.pem'));
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.gateway).toEqual({ host: '127.0.0.1', port: 8080, enabled: true });
    expect(c.sync.longPollSeconds).toBe(30);
    expect(c.labels).toEqual({ site: 'north' });
    expect(c.nodeLock.machineIdFile).toBe('/etc/machine-id');
  });

  it('names every bad field, and refuses unknown ones', () => {
    const bad = { ...minimal, controlPlane: { url: 'http://cp.example', ca: '' }, gateway: { port: 70000 }, sync: { longPollSeconds: 61 }, colour: 'blue' };
    try {
      parseAgentConfig(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BerthError);
      const fields = ((err as BerthError).details!.fields as string[]).join('\n');
      for (const f of ['controlPlane.url', 'controlPlane.ca', 'gateway.port', 'sync.longPollSeconds', 'colour']) expect(fields).toContain(f);
    }
  });

  it('refuses plain HTTP for a registry that is not on loopback', () => {
    expect(() => parseAgentConfig({ ...minimal, artifacts: { source: 'registry', registries: { 'registry.example:5000': { plainHttp: true } } } })).toThrow(
      /plain HTTP is allowed only for a loopback registry/,
    );
    expect(parseAgentConfig({ ...minimal, artifacts: { source: 'registry', registries: { '127.0.0.1:5000': { plainHttp: true } } } }).artifacts).toMatchObject({
      registries: { '127.0.0.1:5000': { plainHttp: true } },
    });
    expect(parseAgentConfig({ ...minimal, artifacts: { source: 'mirror' } }).artifacts).toEqual({ source: 'mirror', retainUnused: 2 });
    expect(() => parseAgentConfig({ ...minimal, artifacts: { source: 'mirror', retainUnused: -1 } })).toThrow(/artifacts.retainUnused/);
    expect(() => parseAgentConfig({ ...minimal, artifacts: { source: 'mirror', registries: {} } })).toThrow(/artifacts/);
  });

  it('runtime.removedAppDataDays: 7 days by default, 0 to 3650, a bad value named', () => {
    expect(parseAgentConfig(minimal).runtime).toEqual({ warmWorkers: 1, removedAppDataDays: 7 });
    expect(parseAgentConfig({ ...minimal, runtime: { removedAppDataDays: 0 } }).runtime).toEqual({ warmWorkers: 1, removedAppDataDays: 0 });
    expect(parseAgentConfig({ ...minimal, runtime: { removedAppDataDays: 3650 } }).runtime.removedAppDataDays).toBe(3650);
    for (const bad of [-1, 3651, 'seven']) {
      expect(() => parseAgentConfig({ ...minimal, runtime: { removedAppDataDays: bad } })).toThrow(
        expect.objectContaining({ code: 'agent.bad_config', message: expect.stringMatching(/runtime\.removedAppDataDays: /) }),
      );
    }
  });

  it('runtime.engine: unset by default (BERTH_ENGINE, else auto, decides), one of auto, wasmtime, jco, a bad value named', () => {
    expect(parseAgentConfig(minimal).runtime.engine).toBeUndefined();
    for (const engine of ['auto', 'wasmtime', 'jco'] as const) expect(parseAgentConfig({ ...minimal, runtime: { engine } }).runtime.engine).toBe(engine);
    for (const bad of ['v8', 'Wasmtime', '', 1]) {
      expect(() => parseAgentConfig({ ...minimal, runtime: { engine: bad } })).toThrow(
        expect.objectContaining({ code: 'agent.bad_config', message: expect.stringMatching(/runtime\.engine: /) }),
      );
    }
    expect(defaultEngineChoice({})).toBe('auto');
    expect(defaultEngineChoice({ BERTH_ENGINE: 'jco' })).toBe('jco');
    expect(() => defaultEngineChoice({ BERTH_ENGINE: 'v8' })).toThrow('BERTH_ENGINE takes one of auto, wasmtime, jco, got "v8"');
  });

  it('runtime.wasmtimeCompiler: unset (Winch) by default, winch or cranelift, a bad value named', () => {
    expect(parseAgentConfig(minimal).runtime.wasmtimeCompiler).toBeUndefined();
    for (const compiler of ['winch', 'cranelift'] as const)
      expect(parseAgentConfig({ ...minimal, runtime: { wasmtimeCompiler: compiler } }).runtime.wasmtimeCompiler).toBe(compiler);
    for (const bad of ['llvm', 'Cranelift', '', 2])
      expect(() => parseAgentConfig({ ...minimal, runtime: { wasmtimeCompiler: bad } })).toThrow(
        expect.objectContaining({ code: 'agent.bad_config', message: expect.stringMatching(/runtime\.wasmtimeCompiler: /) }),
      );
  });

  it('runtime.wasmtimeLibrary: a path resolved against the file, never empty', () => {
    expect(parseAgentConfig(minimal).runtime.wasmtimeLibrary).toBeUndefined();
    expect(parseAgentConfig({ ...minimal, runtime: { wasmtimeLibrary: 'lib/_libwasmtime.so' } }, dir).runtime.wasmtimeLibrary).toBe(
      join(dir, 'lib', '_libwasmtime.so'),
    );
    expect(parseAgentConfig({ ...minimal, runtime: { wasmtimeLibrary: '/opt/w.so' } }, dir).runtime.wasmtimeLibrary).toBe('/opt/w.so');
    expect(() => parseAgentConfig({ ...minimal, runtime: { wasmtimeLibrary: '' } })).toThrow(/runtime\.wasmtimeLibrary: /);
  });

  it("selects the device's engine from its config, logs the choice once, and refuses a library that is not the pinned one", async () => {
    const from = lines.length;
    const jco = await selectDeviceEngine(parseAgentConfig({ ...minimal, runtime: { engine: 'jco' } }, dir), logger);
    expect(jco).toMatchObject({ engine: { kind: 'jco' }, fallback: undefined });
    expect(deviceEngineOf(jco.engine)).toEqual({ kind: 'jco', name: expect.stringMatching(/^v8\+jco@\d/) });
    expect(lines.slice(from).filter((l) => l.msg === 'engine selected')).toEqual([expect.objectContaining({ level: 30, engine: jco.engine.name })]);
    const library = join(dir, 'not-wasmtime.so');
    writeFileSync(library, 'not a library');
    const config = parseAgentConfig({ ...minimal, runtime: { engine: 'wasmtime', wasmtimeLibrary: library } }, dir);
    await expect(selectDeviceEngine(config, logger)).rejects.toMatchObject({ code: 'wasmtime-library-hash', message: expect.stringContaining(library) });
  });

  it('says which file is unreadable or not YAML', async () => {
    await expect(loadAgentConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read the agent configuration/);
    writeFileSync(join(dir, 'broken.yaml'), 'controlPlane: [\n');
    await expect(loadAgentConfig(join(dir, 'broken.yaml'))).rejects.toThrow(/neither JSON nor YAML/);
  });
});

describe('back-off', () => {
  it('follows the server advice when given, else grows with jitter up to the cap', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    expect(b.next(new BerthError('x', 'y', { retryAfterSeconds: 7 }))).toBe(7000);
    const delays = Array.from({ length: 8 }, () => b.next(new Error('down')));
    expect(delays.every((d) => d >= 50 && d <= 1000)).toBe(true);
    expect(delays.at(-1)).toBe(999);
    b.reset();
    expect(b.next()).toBe(99);
  });
});

describe('node-lock', () => {
  it('accepts the machine it was onboarded on and refuses another (a copied data directory)', async () => {
    const identity = { deviceId: 'line-1', keyPem: '', certificatePem: '', notBefore: new Date(), notAfter: new Date() };
    const here = join(dir, 'machine-a');
    const there = join(dir, 'machine-b');
    writeFileSync(here, 'aaaa\n');
    writeFileSync(there, 'bbbb\n');
    const data = join(dir, 'locked');
    await recordBinding(data, here, identity);
    await expect(checkBinding(data, here, identity, logger)).resolves.toBeUndefined();
    await expect(checkBinding(data, there, identity, logger)).rejects.toMatchObject({ code: 'agent.node_lock' });
    await expect(checkBinding(data, here, { ...identity, deviceId: 'line-2' }, logger)).rejects.toMatchObject({ code: 'agent.node_lock' });
    await expect(checkBinding(join(dir, 'never-bound'), here, identity, logger)).rejects.toMatchObject({ code: 'agent.node_lock' });
    await expect(checkBinding(data, join(dir, 'no-such-file'), identity, logger)).rejects.toMatchObject({ code: 'agent.no_machine_id' });
    expect(lines.filter((l) => l.event === 'agent.node_lock').length).toBe(3);
  });
});

describe('local stores', () => {
  it('artifact store: returns only bytes that still match their digest and the same policy', async () => {
    const store = new ArtifactStore(join(dir, 'art'), logger);
    const component = Buffer.from('a component');
    const record = {
      manifestDigest: sha256Digest('manifest'),
      componentDigest: sha256Digest(component),
      vendor: 'acme',
      signer: 'key k',
      policyFingerprint: 'p1',
      verifiedAt: '',
    };
    await store.put(record, component);
    expect((await store.get(record.manifestDigest, 'p1'))?.component.toString()).toBe('a component');
    expect(await store.get(record.manifestDigest, 'p2')).toBeUndefined();
    writeFileSync(join(dir, 'art', 'artifacts', 'blobs', record.componentDigest.slice(7)), 'tampered');
    expect(await store.get(record.manifestDigest, 'p1')).toBeUndefined();
    expect(lines.some((l) => l.event === 'agent.artifact_corrupted')).toBe(true);
  });

  it('adopted state: never stored below the adopted version, and never loaded for another device', async () => {
    const store = new AdoptedStateStore(join(dir, 'adopted'), logger);
    const state = { deviceId: 'line-1', manifestVersion: 5, etag: '"e"', manifestDigest: 'd', deployments: [], adoptedAt: '' };
    await store.save(state);
    await expect(store.save({ ...state, manifestVersion: 4 })).rejects.toMatchObject({ code: 'agent.version_lowered' });
    expect((await store.load('line-1'))!.manifestVersion).toBe(5);
    await expect(store.load('line-2')).rejects.toMatchObject({ code: 'agent.state_foreign_device' });
  });
});

describe('status queue', () => {
  const report = (deploymentId: string, state: StatusReport['status']['state'], version = 2): StatusReport => ({
    deploymentId,
    deviceId: 'line-1',
    adoptedManifestVersion: version,
    status: { state },
  });

  /** A control plane stand-in that is down until told otherwise, and records what it accepted. */
  function controlPlane() {
    const accepted: { path: string; state: string }[] = [];
    let mode: 'down' | 'busy' | 'up' = 'down';
    const client = {
      request: async (path: string, o: { json?: unknown } = {}): Promise<RawAnswer> => {
        if (mode === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        if (mode === 'busy') return { status: 503, headers: { 'retry-after': '0' }, bytes: Buffer.from('') };
        const r = o.json as StatusReport;
        if (r.deploymentId === 'gone') return { status: 403, headers: {}, bytes: Buffer.from('{}') };
        accepted.push({ path, state: r.status.state });
        return { status: accepted.length === 1 ? 201 : 200, headers: {}, bytes: Buffer.from('') };
      },
    };
    return { accepted, client: client as unknown as ControlPlaneClient, set: (m: typeof mode) => (mode = m) };
  }

  it('keeps reports on disk through an outage and a restart, then sends each once, in order', async () => {
    const data = join(dir, 'queue');
    const first = new StatusQueue(data, logger);
    await first.load();
    expect(await first.enqueue(report('a', 'installing'), 'doc-a1')).toBe(true);
    expect(await first.enqueue(report('a', 'installed'), 'doc-a1')).toBe(true);
    expect(await first.enqueue(report('a', 'installed', 3), 'doc-a1')).toBe(false); // a new manifest, the same deployment: nothing new
    await first.enqueue(report('gone', 'removed'), 'doc-gone');
    await first.enqueue(report('b', 'failed'), 'doc-b');
    const cp = controlPlane();
    const stop1 = new AbortController();
    const running = first.run(cp.client, new Backoff({ initialMs: 20, maxMs: 50 }), stop1.signal);
    await waitFor(() => lines.filter((l) => l.msg === 'status report not delivered; will retry').length >= 2, 5000, 'retries while down');
    stop1.abort();
    await running;

    // The agent restarts: the queue comes back from disk, and a restore does not repeat news.
    const second = new StatusQueue(data, logger);
    await second.load();
    expect(second.pending().map((r) => `${r.deploymentId}:${r.status.state}`)).toEqual(['a:installing', 'a:installed', 'gone:removed', 'b:failed']);
    expect(await second.enqueue(report('a', 'installing', 4), 'doc-a1')).toBe(false);
    expect(await second.enqueue(report('a', 'installed', 4), 'doc-a1')).toBe(false);
    cp.set('busy');
    const stop2 = new AbortController();
    const sending = second.run(cp.client, new Backoff({ initialMs: 20, maxMs: 50 }), stop2.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(cp.accepted).toEqual([]);
    cp.set('up');
    await waitFor(() => second.pending().length === 0, 5000, 'queue drained');
    stop2.abort();
    await sending;
    expect(cp.accepted).toEqual([
      { path: '/api/v1/deployments/a/status', state: 'installing' },
      { path: '/api/v1/deployments/a/status', state: 'installed' },
      { path: '/api/v1/deployments/b/status', state: 'failed' },
    ]);
    expect(JSON.parse(readFileSync(join(data, 'status-queue.json'), 'utf8')).entries).toEqual([]);
    expect(lines.some((l) => l.msg === 'status report refused by the control plane; dropped' && l.deploymentId === 'gone')).toBe(true);
  });

  it('a new document for a deployment is news, even in the same state', async () => {
    const q = new StatusQueue(join(dir, 'queue-news'), logger);
    expect(await q.enqueue(report('a', 'installed', 2), 'doc-1')).toBe(true);
    expect(await q.enqueue(report('a', 'installing', 3), 'doc-2')).toBe(true);
    expect(await q.enqueue(report('a', 'failed', 3), 'doc-2')).toBe(true);
    expect(await q.enqueue(report('a', 'installing', 3), 'doc-2')).toBe(false); // a retry
    expect(await q.enqueue(report('a', 'failed', 3), 'doc-2')).toBe(false); // failing the same way again
  });
});

describe('reading deployment documents', () => {
  const doc = (yaml: string) => ({ deploymentId: 'meter-a', digest: sha256Digest(yaml), bytes: Buffer.from(yaml) });
  const good = (over: { deviceId?: string; type?: string; ext?: string } = {}) => `apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  name: meter-a
  deviceId: ${over.deviceId ?? 'line-1'}
  annotations: { id: meter-a, applicationId: acme-meter }
spec:
  applicationId: acme-meter
  deploymentProfile:
    type: ${over.type ?? 'custom'}
    components:
      - name: meter
        properties:
          repository: oci://registry.test/acme/meter
          revision: 1.0.0
          x-berth-extensions: { digest: "sha256:${'a'.repeat(64)}", sizeBytes: 10, mediaType: application/wasm }
    x-berth-extensions: ${over.ext ?? `{ runtime: wasm-component, vendor: acme, grants: { log: { linesPerSecond: 100, burst: 200 } }, tier: worker, trustPolicy: { vendor: acme, publicKeys: [k] } }`}
`;

  it('reads a Berth deployment', () => {
    expect(planFromDocument(doc(good()), 'line-1')).toMatchObject({
      vendor: 'acme',
      app: 'meter',
      version: '1.0.0',
      tier: 'worker',
      component: { ref: { registry: 'registry.test', repository: 'acme/meter' } },
    });
  });

  it('names what is wrong with a document it cannot run', () => {
    expect(() => planFromDocument(doc(good({ deviceId: 'line-2' })), 'line-1')).toThrow(/it is for device 'line-2'/);
    expect(() => planFromDocument(doc(good({ type: 'helm' })), 'line-1')).toThrow(/profile type 'helm'/);
    expect(() => planFromDocument(doc(good({ ext: '{ runtime: wasm-component, vendor: acme, grants: {}, tier: worker }' })), 'line-1')).toThrow(
      /x-berth-extensions: trustPolicy/,
    );
    // Grants arrive effective (docs/deployments.md "Grants"): the agent fills in no default of its own.
    expect(() =>
      planFromDocument(doc(good({ ext: '{ runtime: wasm-component, vendor: acme, grants: { log: {} }, tier: worker, trustPolicy: {} }' })), 'line-1'),
    ).toThrow(/grants\.log\.linesPerSecond/);
    expect(() => planFromDocument(doc('kind: [\n'), 'line-1')).toThrow(/not YAML/);
    expect(() => planFromDocument(doc('kind: Something\n'), 'line-1')).toThrow(/not an ApplicationDeployment: apiVersion/);
  });
});

describe('retry advice in answers', () => {
  const answer = (headers: Record<string, string>, problem?: Record<string, unknown>): RawAnswer => ({
    status: 503,
    headers,
    bytes: Buffer.from(''),
    ...(problem ? { problem: problem as RawAnswer['problem'] } : {}),
  });
  it('reads Retry-After (seconds or a date) and the problem document member', () => {
    expect(retryAfterSeconds(answer({ 'retry-after': '12' }))).toBe(12);
    const at = new Date(Date.now() + 30_000).toUTCString();
    expect(retryAfterSeconds(answer({ 'retry-after': at }))).toBeGreaterThanOrEqual(28);
    expect(retryAfterSeconds(answer({}, { type: 't', title: 't', status: 503, retryAfterSeconds: 9 }))).toBe(9);
    expect(retryAfterSeconds(answer({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(answerError(answer({ 'retry-after': '4' }, { type: 't', title: 'busy', status: 503, code: 'store.busy' }), 'x').details).toMatchObject({
      status: 503,
      retryAfterSeconds: 4,
    });
  });
});
