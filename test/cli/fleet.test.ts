import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import { createCsr } from '../../runtime/agent/enroll.js';
import { generateP256 } from '../../trust/x509.js';
import { addDevice } from '../deployments/fixtures.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { call } from '../orchestrator/harness.js';
import { berth } from '../support/berth-in-process.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';

/** Every command of the operator's day, run in-process against one real control plane (over HTTPS with a token, or its admin socket). */
const api = harnessWithRoles(['operator', 'vendor:acme']);
const said = (r: { code: number; out: string; err: string }) => `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`;
let op: string[];
let vendor: string[];
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;

beforeAll(async () => {
  expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
  expect((await api.as('vendor:acme')('POST', '/api/v1/catalog/apps', { id: 'sensor', description: 'reads the line' })).status).toBe(201);
  const rootsFingerprint = api.h.cp.deps.artifacts!.roots.fingerprint;
  for (const [version, n] of [
    ['1.0.0', 1],
    ['1.1.0', 2],
  ] as const)
    await insertVerifiedVersion(api.h.cp.deps.store, { appId: 'sensor', version, digest: digest(n), rootsFingerprint });
  for (const id of ['dev-a', 'dev-b']) await addDevice(api.h.cp.deps.store, id, { labels: { site: 'north' } });
  const caFile = join(api.h.dir, 'cli-ca.pem');
  writeFileSync(caFile, api.h.ca.join('\n'));
  op = ['--url', api.h.cp.url, '--token', api.token('operator'), '--ca', caFile];
  vendor = ['--url', api.h.cp.url, '--token', api.token('vendor:acme'), '--ca', caFile];
});

/** The device of `line` a rollout moved to 1.1.0 first (waves go by device id, but the test does not lean on it). */
async function movedDevice(): Promise<string> {
  const placements: { deviceId: string; version: string }[] = (await api.as('operator')('GET', '/api/v1/admin/deployments/line')).body.placements;
  return placements.find((p) => p.version === '1.1.0')!.deviceId;
}

/** A device's report on the deployment, as the device channel records it. */
async function report(deviceId: string, state: 'installed' | 'failed'): Promise<void> {
  const changed = api.h.cp.deps.desiredStateChanged ?? (async () => {});
  const error = state === 'failed' ? { message: 'trapped at start' } : null;
  await api.h.cp.deps.store.transaction((tx) =>
    recordDeviceStatus(tx, { deploymentId: 'line', deviceId, state, error, components: [], adoptedManifestVersion: null }, changed),
  );
}

describe('berth devices', () => {
  it('lists and shows devices as a table, JSON or YAML', async () => {
    const list = await berth('devices', ...op);
    expect(list.code, said(list)).toBe(0);
    const lines = list.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATUS +ONBOARDING +LABELS +CREATED$/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^dev-a +active +token +site=north +20\d\d-/), expect.stringMatching(/^dev-b +active /)]);
    // Columns line up: every row's STATUS starts where the header's does.
    const at = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1)) expect(line.slice(at, at + 6)).toBe('active');
    const json = JSON.parse((await berth('devices', 'list', '-o', 'json', ...op)).out);
    expect(json.devices.map((d: { id: string }) => d.id)).toEqual(['dev-a', 'dev-b']);
    const yaml = parse((await berth('devices', '-o', 'yaml', '--data-dir', api.h.dir)).out);
    expect(yaml).toEqual(json);
    const show = await berth('devices', 'show', 'dev-a', ...op);
    expect(show.out).toMatch(/^id +dev-a\nstatus +active\nonboarding +token\nlabels +site=north\n/);
    const missing = await berth('devices', 'show', 'dev-nope', ...op);
    expect(missing.code, said(missing)).toBe(1);
    expect(missing.err).toContain("no device 'dev-nope'");
  });

  it('approves and denies pending devices by device id or request id, and revokes', async () => {
    await api.h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: true });
    try {
      for (const deviceId of ['new-1', 'new-2']) {
        const token = await api.h.enrollmentToken({ deviceId });
        const csr = await createCsr(await generateP256());
        expect((await call(`${api.h.cp.url}/api/v1/onboarding`, { method: 'POST', ca: api.h.ca, json: { method: 'token', token, csr } })).status).toBe(202);
      }
      const pending = await berth('devices', 'pending', ...op);
      expect(pending.code, said(pending)).toBe(0);
      expect(pending.out).toMatch(/^REQUEST +DEVICE +METHOD +CREATED\n[0-9a-f]{32} +new-1 +token /);
      const requests = JSON.parse((await berth('devices', 'pending', '-o', 'json', ...op)).out).requests as { id: string; deviceId: string }[];
      const approved = await berth('devices', 'approve', 'new-1', ...op);
      expect(approved.code, said(approved)).toBe(0);
      expect(approved.out).toMatch(/^request [0-9a-f]{32} approved \(device new-1\)\n$/);
      const second = requests.find((r) => r.deviceId === 'new-2')!.id;
      expect((await berth('devices', 'deny', second, ...op)).out).toBe(`request ${second} denied\n`);
      const again = await berth('devices', 'approve', 'new-2', ...op);
      expect(again.code, said(again)).toBe(1);
      expect(again.err).toContain("no pending request for device 'new-2'");
    } finally {
      await api.h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: false });
    }
    const revoked = await berth('devices', 'revoke', 'new-1', '--reason', 'stolen', ...op);
    expect(revoked.code, said(revoked)).toBe(0);
    expect(revoked.out).toBe('device new-1 revoked\n');
    expect((await berth('devices', 'show', 'new-1', '-o', 'json', ...op)).out).toContain('"revokedReason": "stolen"');
    const usage = await berth('devices', 'revoke', ...op);
    expect(usage.code, said(usage)).toBe(2);
    expect(usage.err).toContain('usage: berth devices revoke <device-id>');
  });
});

describe('berth deploy, deployments, rollout and rollback', () => {
  it('deploys from flags or a file, and says what the control plane refused (exit 1) or what is wrong with the command (exit 2)', async () => {
    const created = await berth('deploy', 'sensor', '1.0.0', '--id', 'line', '--grant', 'log', '--batch-size', '1', ...op);
    expect(created.code, said(created)).toBe(0);
    expect(created.out).toBe('deployment line: sensor 1.0.0 placed on 2 device(s)\n');
    const file = join(api.h.dir, 'deployment.yaml');
    writeFileSync(file, 'app: sensor\nversion: 1.0.0\nid: spare\ngrants: {}\ndeviceIds: [dev-b]\n');
    const fromFile = await berth('deploy', '--file', file, '-o', 'json', '--data-dir', api.h.dir);
    expect(fromFile.code, said(fromFile)).toBe(0);
    expect(JSON.parse(fromFile.out)).toMatchObject({ id: 'spare', appId: 'sensor', version: '1.0.0', placed: ['dev-b'] });

    const list = await berth('deployments', ...op);
    expect(list.out).toMatch(/^ID +APP +VERSION +ROLLOUT +TIER +CREATED\nline +sensor +1\.0\.0 +- +/);
    const show = await berth('deployments', 'show', 'spare', ...op);
    expect(show.out).toContain('DEVICE  VERSION\ndev-b   1.0.0\n');
    const deleted = await berth('deployments', 'delete', 'spare', ...op);
    expect(deleted.out).toBe('deployment spare deleted; removed from 1 device(s)\n');
    // Spread short of devices: the answer's `unplaced` is a count of instances, said as such.
    const short = await berth('deploy', 'sensor', '1.0.0', '--id', 'wide', '--mode', 'spread', '--replicas', '3', ...op);
    expect(short.out, said(short)).toBe('deployment wide: sensor 1.0.0 placed on 2 device(s); 1 instance(s) found no eligible device\n');
    expect((await berth('deployments', 'delete', 'wide', ...op)).code).toBe(0);

    writeFileSync(file, 'app: sensor\nversion: 1.0.0\nmode: sideways\n');
    const refused = await berth('deploy', '--file', file, ...op);
    expect(refused.code, said(refused)).toBe(1);
    expect(refused.err).toMatch(/mode: Invalid option: .*\(422\)\n$/);
    const unknownApp = await berth('deploy', 'nope', '1.0.0', ...op);
    expect(unknownApp.code, said(unknownApp)).toBe(1);
    expect(unknownApp.err).toMatch(/^berth deploy: .*nope/);
    for (const [args, message] of [
      [['deploy', 'sensor'], 'deploy takes <app> <version>'],
      [['deploy', 'sensor', '1.0.0', '--batch-size', '0'], '--batch-size must be a whole number'],
      [['deploy', 'sensor', '1.0.0', '--grant', 'teleport'], 'unknown grant "teleport"'],
      [['deploy', 'sensor', '1.0.0', '--replica', '2'], "Unknown option '--replica'"],
    ] as const) {
      const r = await berth(...args, ...op);
      expect(r.code, `${args.join(' ')}: ${said(r)}`).toBe(2);
      expect(r.err).toContain(message);
    }
  });

  it('starts, shows, pauses, resumes and watches a rollout to the end, then rolls it back', async () => {
    const started = await berth('rollout', 'start', 'line', '--version', '1.1.0', ...op);
    expect(started.code, said(started)).toBe(0);
    expect(started.out).toBe('rollout of line to 1.1.0 started, 1 device(s) per wave\n');
    const status = await berth('rollout', 'status', 'line', ...op);
    expect(status.out).toMatch(/^deployment +line\nrollout +rolling 1\.0\.0 → 1\.1\.0\nwave +1\/2 \(1 per wave\)\ninstalled +0\/2 on 1\.1\.0\ndevices +/);
    expect(JSON.parse((await berth('rollout', 'status', 'line', '-o', 'json', ...op)).out)).toMatchObject({
      rollout: { state: 'rolling', targetVersion: '1.1.0' },
      versions: { '1.0.0': 1, '1.1.0': 1 },
    });

    const paused = await berth('rollout', 'pause', 'line', ...op);
    expect(paused.out).toBe('rollout of line to 1.1.0 paused\n');
    expect((await berth('rollout', 'status', 'line', ...op)).out).toMatch(/\npaused +.*\S/);
    // Watching a paused rollout ends at once, unsuccessfully, saying why.
    const watchPaused = await berth('rollout', 'watch', 'line', ...op);
    expect(watchPaused.code, said(watchPaused)).toBe(1);
    expect(watchPaused.err).toContain('rollout of line paused');
    const pauseAgain = await berth('rollout', 'pause', 'line', ...op);
    expect(pauseAgain.code, said(pauseAgain)).toBe(1);
    expect(pauseAgain.err).toContain('(409)');
    expect((await berth('rollout', 'resume', 'line', ...op)).out).toBe('rollout of line to 1.1.0 rolling\n');

    // Off a terminal, watch prints a plain line for each change and a last line when done.
    const watching = berth('rollout', 'watch', 'line', '--interval', '0.1', '--timeout', '30', ...op);
    await new Promise((r) => setTimeout(r, 300));
    const first = await movedDevice();
    await report(first, 'installed');
    await new Promise((r) => setTimeout(r, 300));
    await report(first === 'dev-a' ? 'dev-b' : 'dev-a', 'installed');
    const watched = await watching;
    expect(watched.code, said(watched)).toBe(0);
    const lines = watched.out.trimEnd().split('\n');
    // A line a wave, each time its figures change: exact counts from the status's waves.
    expect(lines.slice(0, 2)).toEqual(['rollout line wave 1/2: 0/1 adopted, 0 failed, installing', 'rollout line wave 2/2: 0/1 adopted, 0 failed, waiting']);
    expect(lines).toContain('rollout line wave 1/2: 1/1 adopted, 0 failed, done');
    expect(lines).toContain('rollout line wave 2/2: 0/1 adopted, 0 failed, installing');
    expect(lines.slice(-2)).toEqual(['rollout line wave 2/2: 1/1 adopted, 0 failed, done', 'rollout of line to 1.1.0 done: 2/2 installed']);
    expect(lines.filter((l) => l === 'rollout line wave 1/2: 1/1 adopted, 0 failed, done')).toHaveLength(1);
    const done = JSON.parse((await berth('rollout', 'status', 'line', '-o', 'json', ...op)).out);
    expect(done.waves).toEqual([
      { wave: 1, devices: 1, adopted: 1, failed: 0, phase: 'done' },
      { wave: 2, devices: 1, adopted: 1, failed: 0, phase: 'done' },
    ]);
    expect(watched.out).not.toContain('\r');

    const rolledBack = await berth('rollback', 'line', ...op);
    expect(rolledBack.code, said(rolledBack)).toBe(0);
    expect(rolledBack.out).toBe('deployment line rolled back to 1.0.0\n');
    const nothing = await berth('rollback', 'line', ...op);
    expect(nothing.code, said(nothing)).toBe(1);
    expect(nothing.err).toContain('(409)');
    expect((await berth('rollback', ...op)).code).toBe(2);
    const noVersion = await berth('rollout', 'start', 'line', ...op);
    expect(noVersion.code, said(noVersion)).toBe(2);
    expect(noVersion.err).toContain('rollout start needs --version');
    expect((await berth('rollout', 'rewind', 'line', ...op)).code).toBe(2);
    const timedOut = await berth('rollout', 'watch', 'line', '--timeout', 'soon', ...op);
    expect(timedOut.err).toContain("--timeout must be a whole number from 1 to 86400, not 'soon'");
  });

  it('a watch that times out while rolling exits 1 and says so', async () => {
    const slow = await berth('rollout', 'start', 'line', '--version', '1.1.0', '--watch', '--timeout', '1', '--interval', '0.2', ...op);
    expect(slow.code, said(slow)).toBe(1);
    expect(slow.err).toContain('rollout of line still rolling after 1 s');
    await report(await movedDevice(), 'failed');
    const failed = await berth('rollout', 'watch', 'line', ...op);
    expect(failed.code, said(failed)).toBe(1);
    expect(failed.err).toMatch(/rollout of line paused: .*trapped at start/);
    expect(failed.out.split('\n')).toContain('rollout line wave 1/2: 0/1 adopted, 1 failed, failed');
  });
});

describe('berth events', () => {
  it('lists the audit log oldest first, filtered, as a table or JSON, and follows it', async () => {
    const list = await berth('events', '--event', 'rollout.', ...op);
    expect(list.code, said(list)).toBe(0);
    const lines = list.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +AT +EVENT +ACTOR +DEVICE +FIELDS$/);
    expect(lines.slice(1).map((l) => l.split(/ +/)[2])).toEqual(['rollout.started', 'rollout.paused', 'rollout.resumed', 'rollout.started']);
    const json = JSON.parse((await berth('events', '--device', 'new-1', '--limit', '2', '-o', 'json', ...op)).out);
    expect(json.events.length).toBeLessThanOrEqual(2);
    for (const e of json.events) expect(e.deviceId).toBe('new-1');

    const following = berth('events', '--follow', '--event', 'deployment.', '--limit', '1', '--interval', '0.1', '--timeout', '2', '-o', 'json', ...op);
    await new Promise((r) => setTimeout(r, 400));
    expect((await api.as('operator')('DELETE', '/api/v1/admin/deployments/line')).status).toBe(200);
    const followed = await following;
    expect(followed.code, said(followed)).toBe(0);
    const events = followed.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The last one before (with --limit 1), then the new one.
    expect(events.map((e) => e.event)).toEqual(['deployment.rolled_back', 'deployment.removed']);
    expect(events[1].fields).toMatchObject({ deploymentId: 'line' });

    const vendorAsks = await berth('events', ...vendor);
    expect(vendorAsks.code, said(vendorAsks)).toBe(1);
    expect(vendorAsks.err).toContain('(403)');
    for (const [args, message] of [
      [['--limit', '5000'], '--limit must be a whole number from 1 to 1000'],
      [['--timeout', '3'], '--timeout and --interval go with --follow'],
      [['extra'], "events takes no arguments, not 'extra'"],
    ] as const) {
      const r = await berth('events', ...args, ...op);
      expect(r.code, `${args.join(' ')}: ${said(r)}`).toBe(2);
      expect(r.err).toContain(message);
    }
    const badPrefix = await berth('events', '--event', 'Rollout', ...op);
    expect(badPrefix.code, said(badPrefix)).toBe(1);
    expect(badPrefix.err).toContain('(400)');
  });
});

describe('berth catalog', () => {
  it('lists apps and versions, shows a vendor, and adds an app', async () => {
    const apps = await berth('catalog', ...vendor);
    expect(apps.code, said(apps)).toBe(0);
    expect(apps.out).toMatch(/^APP +VENDOR +DESCRIPTION +CREATED\nsensor +acme +reads the line +20\d\d-/);
    const versions = await berth('catalog', 'versions', 'sensor', ...op);
    expect(versions.out).toMatch(/^VERSION +DIGEST +SIZE +SIGNER +ADMITTED\n1\.0\.0 +sha256:0{63}1 +1000 +key /);
    expect(versions.out.trimEnd().split('\n')).toHaveLength(3);
    const vendorShown = JSON.parse((await berth('catalog', 'vendor', 'acme', '-o', 'json', ...vendor)).out);
    expect(vendorShown).toMatchObject({ name: 'acme', trustPolicy: { vendor: 'acme' } });
    const vendors = await berth('catalog', 'vendors', ...op);
    expect(vendors.code, said(vendors)).toBe(0);
    expect(vendors.out).toMatch(/^NAME +KEYS +REPOSITORIES +REGISTERED\nacme +1 +\S+ +20\d\d-/);
    const added = await berth('catalog', 'add-app', 'gauge', '--description', 'a gauge', ...vendor);
    expect(added.out).toBe('app gauge created for vendor acme\n');
    const unknown = await berth('catalog', 'versions', 'nope', ...op);
    expect(unknown.code, said(unknown)).toBe(1);
    expect(unknown.err).toContain('(404)');
    const noPolicy = await berth('catalog', 'add-vendor', 'globex', ...op);
    expect(noPolicy.code, said(noPolicy)).toBe(2);
    expect(noPolicy.err).toContain('add-vendor needs --trust-policy');
  });
});

describe('berth completion', () => {
  it('prints bash, zsh and fish scripts that each shell parses, all asking berth __complete', async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = await berth('completion', shell);
      expect(script.code, said(script)).toBe(0);
      expect(script.out).toContain(' __complete ');
      // Parsed from a file: fish will not read a script to check from a pipe.
      const file = join(api.h.dir, `completion.${shell}`);
      writeFileSync(file, script.out);
      execFileSync(shell, ['-n', file]);
    }
    const bad = await berth('completion', 'powershell');
    expect(bad.code, said(bad)).toBe(2);
    expect(bad.err).toContain("no completion for 'powershell'");
  });
});
