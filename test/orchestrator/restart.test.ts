import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { adminCall, socketTarget } from '../../orchestrator/admin/client.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { call } from './harness.js';

/**
 * The control plane as a child process (`berth orchestrator start`, from dist/ as `npm test`
 * builds it), killed with SIGKILL and started again on the same data directory.
 */
const dir = mkdtempSync(join(tmpdir(), 'berth-restart-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const bin = join(projectRoot(), 'bin', 'berth.js');
  if (!existsSync(join(projectRoot(), 'dist', 'cli', 'orchestrator.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
  const dataDir = join(dir, 'cp');
  rmSync(join(dataDir, 'control-plane.json'), { force: true });
  const child = spawn(process.execPath, [bin, 'orchestrator', 'start', '--data-dir', dataDir, '--port', '0', '--trust-domain', 'restart.test'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/listening on (https:\/\/\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`control plane exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`control plane did not start within 60 s: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(out).toContain('berth token create --data-dir');
  // No --store-url: the embedded store, and the CA it made (or found) on disk.
  expect(out).toContain('pglite store');
  return { child, url: /listening on (https:\/\/\S+)/.exec(out)![1]! };
}

describe('control plane restart after kill -9', () => {
  it('loses nothing that was acknowledged', async () => {
    const first = await startChild();
    const dataDir = join(dir, 'cp');
    const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
    const local = socketTarget(dataDir);
    // The operator commands, as an operator would type them.
    const berth = (...args: string[]) => promisify(execFile)(process.execPath, [join(projectRoot(), 'bin', 'berth.js'), ...args, '--data-dir', dataDir]);
    const created = await berth('token', 'create', '--role', 'admin', '--name', 'ops');
    const admin = { token: created.stdout.trim().split('\n').at(-1)! };
    expect(created.stdout).toMatch(/^token op_[0-9a-f]+ \(admin\)/);
    const enrolled = await berth('token', 'enroll', '--device-id', 'survivor', '--label', 'line=3');
    const enrolA = { token: enrolled.stdout.trim().split('\n').at(-1)! };
    const enrolB = await adminCall(local, 'POST', '/api/v1/admin/enrollment-tokens', { deviceId: 'victim' });
    const spare = await adminCall(local, 'POST', '/api/v1/admin/enrollment-tokens', { deviceId: 'latecomer' });
    const a = await enroll({ url: first.url, ca, dir: join(dir, 'a'), credential: { kind: 'token', token: enrolA.token } });
    const b = await enroll({ url: first.url, ca, dir: join(dir, 'b'), credential: { kind: 'token', token: enrolB.token } });
    const revoked = await berth('orchestrator', 'revoke', 'victim', '--reason', 'test');
    expect(JSON.parse(revoked.stdout)).toMatchObject({ deviceId: 'victim', status: 'revoked' });
    await expect(berth('orchestrator', 'revoke', 'nobody')).rejects.toMatchObject({ stderr: expect.stringContaining('No such device') });
    const bundleBefore = (await call(`${first.url}/api/v1/trust-bundle`, { ca })).body;
    const rotated = JSON.parse((await berth('orchestrator', 'rotate-desired-state-key')).stdout) as { keyId: string; previous: string[] };
    expect(rotated.previous).toHaveLength(1);

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startChild();
    // The same CA (devices' certificates and the provisioned root still work), the same bundle.
    expect((await call(`${second.url}/api/v1/trust-bundle`, { ca })).body).toEqual(bundleBefore);
    const me = await call(`${second.url}/api/v1/identity`, { ca, key: a.keyPem, cert: a.certificatePem });
    expect(me.status).toBe(200);
    expect(me.body.deviceId).toBe('survivor');
    // The rotated desired-state key held, with the key before it and its endorsement.
    const keys = (await call(`${second.url}/api/v1/desired-state/keys`, { ca, key: a.keyPem, cert: a.certificatePem })).body;
    expect(keys.keys.map((k: { kid: string }) => k.kid)).toEqual([rotated.keyId, ...rotated.previous]);
    expect(keys.endorsements).toHaveLength(1);
    // The revocation held.
    expect((await call(`${second.url}/api/v1/identity`, { ca, key: b.keyPem, cert: b.certificatePem })).body.code).toBe('device.revoked');
    // Used tokens stay used; unused ones still work once.
    await expect(enroll({ url: second.url, ca, dir: join(dir, 'x'), credential: { kind: 'token', token: enrolA.token } })).rejects.toMatchObject({
      code: 'onboarding.token_used',
    });
    const late = await enroll({ url: second.url, ca, dir: join(dir, 'c'), credential: { kind: 'token', token: spare.token } });
    expect(late.deviceId).toBe('latecomer');
    // The operator token survived too, over HTTPS.
    const devices = await call(`${second.url}/api/v1/admin/devices`, { ca, headers: { authorization: `Bearer ${admin.token}` } });
    expect(devices.body.devices.map((d: { id: string; status: string }) => `${d.id}:${d.status}`)).toEqual([
      'latecomer:active',
      'survivor:active',
      'victim:revoked',
    ]);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
    expect(existsSync(join(dataDir, 'control-plane.lock'))).toBe(false);
  }, 180_000);
});
