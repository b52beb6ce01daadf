import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import { parseGrants } from '../../host-apis/grants.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { InstanceTier } from '../../runtime/sandbox/instance-tier.js';
import type { AppSpec, SandboxHooks } from '../../runtime/sandbox/sandbox.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

/**
 * How a shared sandbox thread handles calls sent while it is busy: they are sent at once and run
 * in order, each under its own deadline counted from when it starts, and those of an app stopped
 * meanwhile are not run at all. The busy app is `ungranted`, whose entry point asks the host for
 * a token: the host answers after HOLD_MS, and the thread waits for it.
 */
const HOLD_MS = 600;
const MiB = 2 ** 20;
const dir = suiteTempDir('thread-calls');
const engine = new JcoEngine({ cacheDir: `${dir}/cache` });
const compile = (name: string) => engine.compile(readFileSync(fixturePath(name)), { memoryLimitBytes: 4 * MiB });
const tier = new InstanceTier({ appsPerThread: 8, threadHeapMb: 128 });
afterAll(() => tier.close());

const lines: { app: string; message: string }[] = [];
let seq = 0;
function spec(app: string, cpuDeadlineMs: number, grants: unknown): AppSpec {
  return {
    identity: { vendor: 'acme', app, instance: `i${++seq}` },
    digest: 'sha256:unused' as AppSpec['digest'],
    grants: parseGrants(grants),
    dataDir: dir,
    limits: { memoryBytes: 4 * MiB, cpuDeadlineMs, jsHeapMb: 64 },
  };
}
const hooks = (extra: Partial<SandboxHooks> = {}): SandboxHooks => ({
  log: (id, record: AppLogRecord) => lines.push({ app: id.app, message: record.message }),
  ...extra,
});
const slowToken: SandboxHooks['hostHandlers'] = () => ({ 'identity.getToken': () => new Promise((r) => setTimeout(() => r('token'), HOLD_MS)) });

const holder = async (name: string) =>
  tier.start(await compile('ungranted'), spec(name, 10_000, { log: {}, identity: { audiences: ['anything'] } }), hooks({ hostHandlers: slowToken }));

describe('calls on a shared sandbox thread', () => {
  it('a call sent while the thread is busy waits its turn, and its deadline starts with it', async () => {
    const busy = await holder('holder');
    const quick = await tier.start(await compile('hello'), spec('quick', 200, { log: {} }), hooks());
    expect(quick.threadId).toBe(busy.threadId);
    const running = busy.invoke('run');
    // Sent at once, run after `holder`'s 600 ms: a deadline counted from sending would end it.
    expect(await quick.invoke('add', [2, 3])).toEqual({ ok: true, value: 5 });
    expect(await running).toEqual({ ok: true, value: undefined });
    expect(lines).toContainEqual({ app: 'holder', message: 'got a token' });
    await Promise.all([busy.stop(), quick.stop()]);
  });

  it('calls of an app stopped while they waited are not run', async () => {
    const busy = await holder('holder-2');
    const later = await tier.start(await compile('hello'), spec('stopped-early', 5_000, { log: {} }), hooks());
    expect(later.threadId).toBe(busy.threadId);
    const running = busy.invoke('run');
    const queued = later.invoke('run');
    await later.stop();
    expect(await queued).toEqual({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'stopped', message: 'the app is not loaded' } });
    await running;
    expect(lines.some((l) => l.app === 'stopped-early')).toBe(false);
    await busy.stop();
  });

  it('starts the entry point with the instance only when asked, and hands over its outcome', async () => {
    const compiled = await compile('hello');
    const asked = await tier.start(compiled, spec('asked', 5_000, { log: {} }), hooks({ runEntryPoint: true }));
    expect(await asked.entryPoint).toEqual({ ok: true, value: undefined });
    expect(lines).toContainEqual({ app: 'asked', message: 'hello from wat' });
    const plain = await tier.start(compiled, spec('not-asked', 5_000, { log: {} }), hooks());
    expect(plain.entryPoint).toBeUndefined();
    expect(await plain.invoke('add', [1, 1])).toEqual({ ok: true, value: 2 });
    expect(lines.some((l) => l.app === 'not-asked')).toBe(false);
    await Promise.all([asked.stop(), plain.stop()]);
  });

  it('a trap in an entry point started with the instance ends only that app, as a trap', async () => {
    const neighbour = await tier.start(await compile('hello'), spec('calm', 5_000, { log: {} }), hooks());
    const trap = await tier.start(await compile('trap'), spec('trapper', 5_000, {}), hooks({ runEntryPoint: true }));
    const stopped = new Promise((resolve) => trap.onStop(resolve));
    expect(await trap.entryPoint).toMatchObject({ ok: false, failure: { kind: 'trap', message: expect.stringMatching(/unreachable/) } });
    expect(await stopped).toMatchObject({ reason: 'trap' });
    expect(await trap.invoke('run')).toMatchObject({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'trap' } });
    expect(await neighbour.invoke('add', [4, 4])).toEqual({ ok: true, value: 8 });
    await Promise.all([neighbour.stop(), trap.stop()]);
  });
});
