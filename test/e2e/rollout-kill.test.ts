import 'reflect-metadata';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorClient, type OperatorClient } from '../../cli/demo/operator-client.js';
import { projectRoot } from '../../common/paths.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import type { AgentConfigInput } from '../../runtime/agent/config.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import { fixture, spawnAgent, variant, waitFor, type AgentProcess } from '../agent/support.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { suiteTempDir } from '../support/tmp.js';

const BIN = join(projectRoot(), 'bin', 'berth.js');

// The control plane is its own process here, killed with SIGKILL in the middle of a rolling
// update and started again on the same data and port; the devices are `berth device start`
// processes. Nothing acknowledged may be lost: the rollout finishes, every device reports the
// new version installed, and no device ever adopts a lower manifest version.
describe('a rolling update survives kill -9 of the control plane', () => {
  const dir = suiteTempDir('e2e-rollout-kill');
  const cpDir = join(dir, 'cp');
  let registry: TestRegistry;
  let port: number;
  let cp: ChildProcess | undefined;
  let admin: OperatorClient;
  const agents: AgentProcess[] = [];

  async function startControlPlane(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'orchestrator',
        'start',
        '--data-dir',
        cpDir,
        '--port',
        String(port),
        '--trust-domain',
        'e2e.test',
        '--registry-config',
        join(dir, 'registries.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`control plane exited ${child.exitCode}: ${out}`);
        return /listening on https:/.test(out);
      },
      60_000,
      'the control plane to listen',
    );
    cp = child;
  }

  async function kill(): Promise<void> {
    const child = cp!;
    cp = undefined;
    child.kill('SIGKILL');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }

  beforeAll(async () => {
    if (!existsSync(join(projectRoot(), 'dist', 'cli', 'orchestrator.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    registry = await startRegistry();
    port = await freePort();
    writeFileSync(join(dir, 'registries.json'), JSON.stringify({ registries: { [registry.host]: { plainHttp: true } } }));
    await startControlPlane();
    const ca = readFileSync(join(cpDir, 'ca.pem'), 'utf8');
    const url = `https://127.0.0.1:${port}`;
    const created = await promisify(execFile)(process.execPath, [BIN, 'token', 'create', '--role', 'admin', '--name', 'ops', '--data-dir', cpDir]);
    admin = operatorClient(url, ca, created.stdout.trim().split('\n').at(-1)!);

    const key = generateVendorKey();
    await admin.call('POST', '/api/v1/catalog/vendors', {
      name: 'acme',
      trustPolicy: { publicKeys: [key.publicKeyPem], repositories: [`${registry.host.replace(/[.]/g, '\\.')}/acme/.+`] },
    });
    await admin.call('POST', '/api/v1/catalog/apps', { id: 'meter', vendor: 'acme' });
    const client = new RegistryClient(registry.host, { plainHttp: true });
    for (const [version, bytes] of [
      ['1.0.0', fixture('hello')],
      ['1.1.0', variant(fixture('hello'), '1.1.0')],
    ] as const) {
      await pushComponent(client, 'acme/meter', version, bytes, [
        { kind: 'message-signature', bytes: serializeBundle(signComponent(bytes, loadPrivateKey(key.privateKeyPem))) },
      ]);
      await admin.call('POST', '/api/v1/catalog/apps/meter/versions', { version, component: { reference: `oci://${registry.host}/acme/meter:${version}` } });
    }

    const caFile = join(dir, 'fleet-ca.pem');
    writeFileSync(caFile, ca);
    for (const name of ['press-1', 'press-2']) {
      const { token } = await admin.call<{ token: string }>('POST', '/api/v1/admin/enrollment-tokens', { deviceId: name });
      const machineIdFile = join(dir, `machine-id-${name}`);
      writeFileSync(machineIdFile, randomBytes(16).toString('hex') + '\n');
      const config: AgentConfigInput = {
        controlPlane: { url, ca: caFile },
        dataDir: join(dir, name),
        onboarding: { credential: { kind: 'token', token }, deviceId: name },
        labels: { site: 'e2e' },
        artifacts: { source: 'registry', registries: { [registry.host]: { plainHttp: true } } },
        gateway: { host: '127.0.0.1', port: 0, enabled: false },
        sync: { longPollSeconds: 5, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1 },
        nodeLock: { machineIdFile },
        // A short health window: each wave waits for its devices' probation (docs/agent.md).
        lastKnownGood: { windowSeconds: 1, maxRestarts: 3 },
        logLevel: 'debug',
      };
      const configPath = join(dir, `${name}.json`);
      writeFileSync(configPath, JSON.stringify(config));
      agents.push(spawnAgent(name, config.dataDir, configPath));
    }
    for (const a of agents) await a.waitForLog((l) => l.msg === 'device agent started', 'onboarding', 60_000);
    await admin.call('POST', '/api/v1/admin/deployments', {
      id: 'meter',
      app: 'meter',
      version: '1.0.0',
      grants: { log: {} },
      deviceIds: ['press-1', 'press-2'],
      rollout: { batchSize: 1 },
    });
    await waitFor(async () => (await admin.call('GET', '/api/v1/admin/deployments/meter/status')).counts?.installed === 2, 90_000, 'both devices on 1.0.0');
  }, 240_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    if (cp) cp.kill('SIGTERM');
    await registry?.stop();
  });

  it('finishes the rollout after the restart, every device reports the new version, and no adopted version goes down', async () => {
    const marks = agents.map((a) => a.logs.length);
    await admin.call('POST', '/api/v1/admin/deployments/meter/rollouts', { version: '1.1.0', batchSize: 1 });
    // The first wave: one device has the new version; the second has not been told yet.
    await waitFor(() => agents.some((a, i) => a.logs.slice(marks[i]).some((l) => l.msg === 'app updated' && l.version === '1.1.0')), 60_000, 'the first wave');
    await kill();
    await startControlPlane();

    const status = await waitFor(
      async () => {
        const s = await admin.call('GET', '/api/v1/admin/deployments/meter/status').catch(() => undefined);
        return s?.versions?.['1.1.0'] === 2 && s.counts?.installed === 2 ? s : undefined;
      },
      120_000,
      'both devices on 1.1.0 and reported installed after the restart',
    );
    expect(status.counts.failed).toBe(0);
    expect(status.version).toBe('1.1.0');

    for (const a of agents) {
      expect(a.logs.some((l) => l.msg === 'app updated' && l.version === '1.1.0' && l.updatedFrom === '1.0.0')).toBe(true);
      const versions = a.logs.filter((l) => l.msg === 'new desired state verified; applying').map((l) => l.manifestVersion as number);
      expect(versions.length).toBeGreaterThan(1);
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
      expect(a.child.exitCode).toBeNull();
    }
  }, 240_000);
});
