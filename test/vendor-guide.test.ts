import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { call } from './orchestrator/harness.js';
import { startInProcessAgent, startWorld, waitFor, type InProcessAgent, type World } from './agent/support.js';

/**
 * docs/vendor-guide.md, followed: each `berth` command of its shell blocks is run here (the last
 * test checks that none is missing), and each API step is the request it shows.
 */
const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'berth-vendor-guide-'));
const project = join(work, 'hello');
const ran: string[] = [];

async function berth(cwd: string, ...args: string[]): Promise<string> {
  ran.push(['berth', ...args].join(' '));
  const { stdout } = await exec(process.execPath, [join(ROOT, 'bin/berth.js'), ...args], { cwd, timeout: 240_000 });
  return stdout;
}

let world: World;
let device: InProcessAgent | undefined;
let served: ChildProcess | undefined;
beforeAll(async () => {
  world = await startWorld();
}, 120_000);
afterAll(async () => {
  served?.kill('SIGKILL');
  await device?.agent.stop();
  await world?.stop();
  rmSync(work, { recursive: true, force: true });
});

const greeting = { app: 'hellocorp/hello', message: 'Hello from hello', path: '/hello' };

describe('docs/vendor-guide.md, from an empty folder to the app answering on a device', () => {
  it('1-2: berth new writes a project; berth build builds it; berth run --serve answers as a device would', async () => {
    await berth(work, 'new', 'js', 'hello', '--vendor', 'hellocorp');
    const built = await berth(project, 'build');
    expect(built).toMatch(/built dist\/hello\.wasm .*sha256:[0-9a-f]{64}/);
    expect(built).toContain('berth:host/config@0.1.0');

    ran.push('berth run --serve 127.0.0.1:0');
    served = spawn(process.execPath, [join(ROOT, 'bin/berth.js'), 'run', '--serve', '127.0.0.1:0'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    served.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const url = await waitFor(() => /serving hellocorp\/hello at (\S+)/.exec(out)?.[1], 60_000, 'berth run --serve to listen');
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ ...greeting, served: 1 });
    served.kill('SIGINT');
    await waitFor(() => served!.exitCode !== null || undefined, 20_000, 'berth run to stop on SIGINT');
    expect(served.exitCode).toBe(0);
  }, 300_000);

  it('3-7: signed, pushed, registered by the operator, admitted, deployed, and answering on the device', async () => {
    const registry = world.registry.host;
    await berth(project, 'keygen', '--out', 'hellocorp');
    await berth(project, 'sign', 'dist/hello.wasm', '--key', 'hellocorp.key');
    await berth(project, 'push', 'dist/hello.wasm', `oci://${registry}/hellocorp/hello:0.1.0`, '--plain-http');

    // 4: the operator registers the vendor and gives it a token.
    const vendor = await world.h.admin('POST', '/api/v1/catalog/vendors', {
      name: 'hellocorp',
      trustPolicy: {
        vendor: 'hellocorp',
        publicKeys: [readFileSync(join(project, 'hellocorp.pub'), 'utf8')],
        repositories: [`${registry.replace(/[.]/g, '\\.')}/hellocorp/.+`],
      },
    });
    expect(vendor.status, JSON.stringify(vendor.body)).toBe(201);
    const token = await world.h.admin('POST', '/api/v1/admin/tokens', { name: 'hellocorp release', role: 'vendor:hellocorp' });
    expect(token.status).toBe(201);
    const asVendor = (path: string, json: unknown) =>
      call(world.h.cp.url + path, { method: 'POST', ca: world.h.ca, headers: { authorization: `Bearer ${token.body.token}` }, json });

    // 5: the vendor registers the version; admission pulls and verifies it.
    expect((await asVendor('/api/v1/catalog/apps', { id: 'hello' })).status).toBe(201);
    const version = await asVendor('/api/v1/catalog/apps/hello/versions', {
      version: '0.1.0',
      component: { reference: `oci://${registry}/hellocorp/hello:0.1.0` },
    });
    expect(version.status, JSON.stringify(version.body)).toBe(201);

    // 6: the operator deploys it with berth.yaml's grants.
    device = await startInProcessAgent(world, 'vg-1');
    const grants = (parseYaml(readFileSync(join(project, 'berth.yaml'), 'utf8')) as { grants: Record<string, unknown> }).grants;
    await world.deploy({ id: 'hello', app: 'hello', version: '0.1.0', grants, deviceIds: ['vg-1'] });
    await waitFor(async () => (await world.status('hello')).counts?.installed === 1, 120_000, 'hello installed on the device');

    // 7: it answers on the device's gateway.
    const answer = await fetch(`http://127.0.0.1:${device.agent.gatewayPort}/hello`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject(greeting);
  }, 300_000);

  it('runs every berth command the guide shows', () => {
    const guide = readFileSync(join(ROOT, 'docs/vendor-guide.md'), 'utf8');
    const shown = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.startsWith('berth ')));
    expect(shown.length).toBeGreaterThanOrEqual(6);
    const registry = world.registry.host;
    for (const line of shown) {
      const expected = line.replace('$REGISTRY', registry).replace('127.0.0.1:8080', '127.0.0.1:0');
      expect(
        ran.some((r) => r.startsWith(expected)),
        `the guide's \`${line}\` was not run`,
      ).toBe(true);
    }
  });
});
