import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseGrants } from '../../host-apis/grants.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { bubblewrapArgs, childNodeArgs, nodeExecutable, ProcessSandbox } from '../../runtime/sandbox/process-sandbox.js';
import { distPath, projectRoot } from '../../common/paths.js';
import { InstanceTier } from '../../runtime/sandbox/instance-tier.js';
import { WorkerSandbox } from '../../runtime/sandbox/worker-sandbox.js';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime, type IsolationTier } from '../../runtime/runtime.js';
import type { ThreadSandbox } from '../../runtime/sandbox/worker-sandbox.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

const MiB = 2 ** 20;
const bytes = (name: string) => readFileSync(fixturePath(name));
const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2, resetAfterMs: 60_000 };
const threadOf = (app: AppSupervisor) => (app.currentSandbox as ThreadSandbox).threadId;
const nextStop = (app: AppSupervisor) => new Promise<{ reason: string; message: string }>((resolve) => app.once('stopped', resolve));

function quietRuntime(name: string, appsPerThread = 8, appsPerInterruptibleThread = appsPerThread) {
  const lines: { app?: string; msg: string }[] = [];
  const log = (o: { app?: string }, msg: string) => lines.push({ app: o.app, msg });
  const logger = { info: log, warn: log, error: log, debug() {}, trace() {} } as never;
  const runtime = new Runtime({
    dataDir: suiteTempDir(name),
    backoff: FAST_BACKOFF,
    logger,
    instanceTier: { appsPerThread, appsPerInterruptibleThread, threadHeapMb: 256 },
  });
  afterAll(() => runtime.close());
  return { runtime, lines };
}

// The same app behaves the same under every tier; only the boundary differs.
for (const tier of ['worker', 'instance', 'process'] as IsolationTier[]) {
  describe(`${tier} tier: same behaviour`, () => {
    const { runtime, lines } = quietRuntime(`tier-${tier}`);

    it('runs the entry point, logs tagged lines and answers calls', async () => {
      const app = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: `hello-${tier}`, grants: { log: {} }, tier });
      await waitFor(() => lines.some((l) => l.app === `hello-${tier}` && l.msg === 'hello from wat'));
      expect(await app.invoke('add', [40, 2])).toEqual({ ok: true, value: 42 });
      expect(app.currentSandbox?.tier).toBe(tier);
    });

    it('caps linear memory at the limit', async () => {
      const app = await runtime.startApp(bytes('membomb'), { vendor: 'acme', app: `bomb-${tier}`, grants: {}, tier, limits: { memoryBytes: 4 * MiB } });
      const stop = await nextStop(app);
      expect(stop).toMatchObject({ reason: 'failed', message: 'run returned an error: memory.grow refused at 49 pages' });
      await app.stop();
    });

    it('restarts an app that traps', async () => {
      const app = await runtime.startApp(bytes('trap'), { vendor: 'acme', app: `trap-${tier}`, grants: {}, tier });
      expect((await nextStop(app)).reason).toBe('trap');
      await app.stop();
    });

    it('answers a call that traps with the trap itself, then ends the instance', async () => {
      const compiled = await runtime.engine.compile(bytes('trap'), { memoryLimitBytes: 4 * MiB });
      const spec = {
        identity: { vendor: 'acme', app: `direct-${tier}`, instance: 'i' },
        digest: compiled.digest,
        grants: {},
        dataDir: suiteTempDir(`direct-${tier}`),
        limits: { memoryBytes: 4 * MiB, cpuDeadlineMs: 5_000, jsHeapMb: 64 },
      };
      const hooks = { log: () => {} };
      const shared = tier === 'instance' ? new InstanceTier() : undefined;
      try {
        const sandbox =
          tier === 'worker'
            ? await WorkerSandbox.start(compiled, spec, hooks)
            : shared
              ? await shared.start(compiled, spec, hooks)
              : await ProcessSandbox.start(compiled, spec, hooks);
        const stopped = new Promise<{ reason: string }>((resolve) => sandbox.onStop(resolve));
        expect(await sandbox.invoke('run')).toMatchObject({ ok: false, failure: { kind: 'trap', message: expect.stringMatching(/unreachable/) } });
        expect((await stopped).reason).toBe('trap');
        await sandbox.stop();
      } finally {
        await shared?.close();
      }
    });

    it('ends a runaway app at its deadline', async () => {
      const app = await runtime.startApp(bytes('spin'), { vendor: 'acme', app: `spin-${tier}`, grants: {}, tier, limits: { cpuDeadlineMs: 200 } });
      expect(await nextStop(app)).toMatchObject({ reason: 'deadline' });
      await app.stop();
    });

    it('keeps the key-value store per app', async () => {
      const grants = { log: {}, config: { values: { greeting: tier } }, keyvalue: {} };
      const a = await runtime.startApp(bytes('js-app'), { vendor: 'acme', app: `kv-a-${tier}`, grants, tier });
      const b = await runtime.startApp(bytes('js-app'), { vendor: 'acme', app: `kv-b-${tier}`, grants, tier });
      expect(await a.invoke('bump')).toEqual({ ok: true, value: 2 });
      expect(await a.invoke('bump')).toEqual({ ok: true, value: 3 });
      expect(await b.invoke('bump')).toEqual({ ok: true, value: 2 });
    }, 60_000);
  });
}

describe('instance tier: what sharing a thread means', () => {
  // A thread holds more apps on an engine that stops a runaway inside it (only heap exhaustion ends the thread).
  const { runtime } = quietRuntime('instance-sharing', 4, 6);
  const perThread = runtime.engine.kind === 'jco' ? 4 : 6;

  it(`places several apps on one thread (${perThread} on this engine), and one more on a new one`, async () => {
    const apps = [];
    for (let i = 0; i <= perThread; i++)
      apps.push(await runtime.startApp(bytes('hello'), { vendor: 'acme', app: `h${i}`, grants: { log: {} }, tier: 'instance' }));
    const threads = apps.map(threadOf);
    expect(new Set(threads.slice(0, perThread)).size).toBe(1);
    expect(threads[perThread]).not.toBe(threads[0]);
    for (const [i, app] of apps.entries()) expect(await app.invoke('add', [i, 1])).toEqual({ ok: true, value: i + 1 });
    await Promise.all(apps.map((a) => a.stop()));
  });

  it('an app stopped while its entry point runs does not leave the shared thread waiting', async () => {
    const first = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'brief', grants: { log: {} }, tier: 'instance' });
    await first.stop();
    const second = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'after', grants: { log: {} }, tier: 'instance' });
    const answer = await Promise.race([second.invoke('add', [1, 2]), new Promise((r) => setTimeout(() => r('no answer within 10 s'), 10_000))]);
    expect(answer).toEqual({ ok: true, value: 3 });
    await second.stop();
  });

  it('a trap ends only the app that trapped; its neighbours on the thread keep running', async () => {
    const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'steady', grants: { log: {} }, tier: 'instance' });
    const trap = await runtime.startApp(bytes('trap'), { vendor: 'acme', app: 'trapper', grants: {}, tier: 'instance' });
    expect((await nextStop(trap)).reason).toBe('trap');
    expect(neighbour.status()).toMatchObject({ state: 'running', restarts: 0 });
    expect(await neighbour.invoke('add', [1, 1])).toEqual({ ok: true, value: 2 });
    await trap.stop();
    await neighbour.stop();
  });

  // V8 cannot stop Wasm inside a thread: on jco a runaway ends its thread. Wasmtime stops it there.
  const onJco = runtime.engine.kind === 'jco';

  it.runIf(!onJco)('a runaway app is interrupted at its deadline inside the shared thread: its neighbour keeps answering and is never restarted', async () => {
    const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'calm', grants: { log: {} }, tier: 'instance' });
    const spin = await runtime.startApp(bytes('spin'), { vendor: 'acme', app: 'spinner', grants: {}, tier: 'instance', limits: { cpuDeadlineMs: 200 } });
    expect(threadOf(spin)).toBe(threadOf(neighbour));
    const spinStops: { reason: string; message: string }[] = [];
    spin.on('stopped', (r) => spinStops.push(r));
    // While the runaway runs again and again (restarted with back-off), the neighbour answers:
    // a call waits at most for the runaway's deadline on the thread they share.
    const answers: number[] = [];
    while (spinStops.length < 3) {
      const t0 = performance.now();
      expect(await neighbour.invoke('add', [2, 2])).toEqual({ ok: true, value: 4 });
      answers.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(spinStops.every((r) => r.reason === 'deadline' && r.message === 'ran past its 200 ms deadline')).toBe(true);
    expect(Math.max(...answers)).toBeLessThan(200 + 2_000);
    expect(neighbour.status()).toMatchObject({ state: 'running', restarts: 0 });
    await spin.stop();
    await neighbour.stop();
  });

  it.runIf(onJco)('a runaway app ends its thread once: neighbours are told why and restarted, the runaway then runs alone', async () => {
    const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'victim', grants: { log: {} }, tier: 'instance' });
    const spin = await runtime.startApp(bytes('spin'), { vendor: 'acme', app: 'runaway', grants: {}, tier: 'instance', limits: { cpuDeadlineMs: 200 } });
    const shared = threadOf(neighbour) === threadOf(spin);
    const stop = await nextStop(neighbour);
    expect(shared).toBe(true);
    expect(stop).toMatchObject({ reason: 'crash', message: 'its sandbox thread was ended: runaway ran past its deadline' });
    await waitFor(() => neighbour.status().state === 'running', 10_000, 'the neighbour restarted');
    // The runaway keeps running past its deadline, but now on a thread of its own.
    const spinStops: string[] = [];
    spin.on('stopped', (r) => spinStops.push(r.reason));
    await waitFor(() => spinStops.length >= 2, 10_000, 'two more runaway stops');
    expect(spinStops.every((r) => r === 'deadline')).toBe(true);
    expect(neighbour.status().restarts).toBe(1);
    expect(await neighbour.invoke('add', [2, 2])).toEqual({ ok: true, value: 4 });
    await spin.stop();
    await neighbour.stop();
  });
  it.runIf(!onJco)('an app that never finishes instantiating is interrupted at its deadline; its neighbour on the thread is undisturbed', async () => {
    const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'onlooker', grants: { log: {} }, tier: 'instance' });
    const hanging = await runtime.startApp(bytes('hang-on-start'), {
      vendor: 'acme',
      app: 'staller',
      grants: {},
      tier: 'instance',
      limits: { instantiateDeadlineMs: 300 },
    });
    expect(hanging.status()).toMatchObject({ state: 'backoff', lastStop: { reason: 'load-failed', message: 'instantiation ran past its 300 ms deadline' } });
    await waitFor(() => hanging.status().restarts >= 2, 10_000, 'another failed start');
    expect(await neighbour.invoke('add', [2, 3])).toEqual({ ok: true, value: 5 });
    expect(neighbour.status()).toMatchObject({ state: 'running', restarts: 0 });
    await hanging.stop();
    await neighbour.stop();
  });

  it.runIf(onJco)(
    'an app that never finishes instantiating ends its thread once: neighbours are told why and restarted, its later starts run alone',
    async () => {
      const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'bystander', grants: { log: {} }, tier: 'instance' });
      const neighbourStop = nextStop(neighbour);
      const hanging = await runtime.startApp(bytes('hang-on-start'), {
        vendor: 'acme',
        app: 'hanger',
        grants: {},
        tier: 'instance',
        limits: { instantiateDeadlineMs: 300 },
      });
      expect(hanging.status()).toMatchObject({ state: 'backoff', lastStop: { reason: 'load-failed', message: 'instantiation ran past its 300 ms deadline' } });
      expect(await neighbourStop).toMatchObject({ reason: 'crash', message: 'its sandbox thread was ended: hanger ran past its deadline' });
      await waitFor(() => neighbour.status().state === 'running', 10_000, 'the neighbour restarted');
      expect(await neighbour.invoke('add', [2, 3])).toEqual({ ok: true, value: 5 });
      // Its next starts hang on a thread of their own: the neighbour is not ended again.
      await waitFor(() => hanging.status().restarts >= 3, 10_000, 'two more failed starts');
      expect(hanging.status().lastStop).toMatchObject({ reason: 'load-failed' });
      expect(neighbour.status().restarts).toBe(1);
      expect(await neighbour.invoke('add', [3, 4])).toEqual({ ok: true, value: 7 });
      await hanging.stop();
      await neighbour.stop();
    },
  );
});

// The process tier runs the app in a worker tier inside its child, so the same deadline holds there.
for (const tier of ['worker', 'process'] as IsolationTier[])
  describe(`${tier} tier: an app that never finishes instantiating`, () => {
    const { runtime } = quietRuntime(`${tier}-hang`);

    it('is ended at its instantiation deadline and restarted with back-off, its neighbour undisturbed', async () => {
      const neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'bystander', grants: { log: {} }, tier });
      const hanging = await runtime.startApp(bytes('hang-on-start'), {
        vendor: 'acme',
        app: 'hanger',
        grants: {},
        tier,
        limits: { instantiateDeadlineMs: 300 },
      });
      expect(hanging.status()).toMatchObject({ state: 'backoff', lastStop: { reason: 'load-failed', message: 'instantiation ran past its 300 ms deadline' } });
      await waitFor(() => hanging.status().restarts >= 2, 10_000, 'a second failed start');
      expect(neighbour.status()).toMatchObject({ state: 'running', restarts: 0 });
      expect(await neighbour.invoke('add', [1, 2])).toEqual({ ok: true, value: 3 });
      await hanging.stop();
      await neighbour.stop();
    });
  });

describe('process tier: the boundary of the operating system', () => {
  const dataDir = suiteTempDir('process-probe');

  it('runs the app in a child process of its own', async () => {
    const { runtime } = quietRuntime('process-pid');
    const app = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'pid', grants: { log: {} }, tier: 'process' });
    const pid = (app.currentSandbox as ProcessSandbox).pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    await app.stop();
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it("sends a call's usage with its result, not in an IPC message of its own, and still reports it before the call resolves", async () => {
    const engine = new JcoEngine({ cacheDir: join(dataDir, 'cache-usage') });
    const compiled = await engine.compile(bytes('hello'), { memoryLimitBytes: 4 * MiB });
    const spec = {
      identity: { vendor: 'acme', app: 'u', instance: 'i' },
      digest: compiled.digest,
      grants: parseGrants({ log: {} }),
      dataDir,
      limits: { memoryBytes: 4 * MiB, cpuDeadlineMs: 5_000, jsHeapMb: 64 },
    };
    const reports: number[] = [];
    const sandbox = await ProcessSandbox.start(compiled, spec, { log: () => {}, usage: (_id, report) => reports.push(report.busyMs) });
    const messages: string[] = [];
    try {
      await waitFor(() => reports.length > 0, 10_000, "the load's usage report"); // sent alone: no result follows a load
      (sandbox as unknown as { child: { on(event: 'message', f: (m: { type: string }) => void): void } }).child.on('message', (m) => messages.push(m.type));
      for (let i = 0; i < 20; i++) {
        const before = reports.length;
        expect(await sandbox.invoke('add', [i, 1])).toEqual({ ok: true, value: i + 1 });
        expect(reports.length, 'the usage of the call, reported before it resolved').toBe(before + 1);
      }
      expect(messages.filter((t) => t === 'result')).toHaveLength(20);
      expect(messages.filter((t) => t === 'usage')).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  });

  it('binds the code of Berth and the Node binary back in after hiding /tmp, wherever they live', async () => {
    const engine = new JcoEngine({ cacheDir: join(dataDir, 'cache-binds') });
    const compiled = await engine.compile(bytes('hello'), { memoryLimitBytes: 4 * MiB });
    const spec = {
      identity: { vendor: 'acme', app: 'b', instance: 'i' },
      digest: compiled.digest,
      grants: {},
      dataDir,
      limits: { memoryBytes: 4 * MiB, cpuDeadlineMs: 1000, jsHeapMb: 64 },
    };
    const args = bubblewrapArgs(compiled, spec);
    const afterTmpfs = args.slice(args.indexOf('/tmp') + 1);
    const roBinds = afterTmpfs.flatMap((a, i) => (a === '--ro-bind' ? [afterTmpfs[i + 1]] : []));
    expect(roBinds).toEqual(expect.arrayContaining([nodeExecutable(), distPath(''), join(projectRoot(), 'package.json')]));
    expect(afterTmpfs.slice(afterTmpfs.indexOf('--bind'), afterTmpfs.indexOf('--bind') + 3)).toEqual(['--bind', dataDir, dataDir]);
  });

  it('a child with the same flags cannot read host files, write outside its folder, or start processes', async () => {
    const engine = new JcoEngine({ cacheDir: join(dataDir, 'cache') });
    const compiled = await engine.compile(bytes('hello'), { memoryLimitBytes: 4 * MiB });
    const appDir = join(dataDir, 'app');
    mkdirSync(appDir, { recursive: true });
    const probe = join(appDir, 'probe.cjs');
    writeFileSync(
      probe,
      `const fs = require('fs'); const out = {};
       const attempt = (name, f) => { try { f(); out[name] = 'allowed'; } catch (e) { out[name] = e.code || e.message; } };
       attempt('read /etc/passwd', () => fs.readFileSync('/etc/passwd'));
       attempt('write outside', () => fs.writeFileSync(${JSON.stringify(join(dataDir, 'escaped.txt'))}, 'x'));
       attempt('write own folder', () => fs.writeFileSync(${JSON.stringify(join(appDir, 'own.txt'))}, 'x'));
       attempt('child process', () => require('child_process').execFileSync('/bin/true'));
       out.env = Object.keys(process.env).filter((k) => !k.startsWith('NODE_')).length;
       console.log(JSON.stringify(out));`,
    );
    const spec = {
      identity: { vendor: 'acme', app: 'probe', instance: 'p' },
      digest: compiled.digest,
      grants: {},
      dataDir: appDir,
      limits: { memoryBytes: 4 * MiB, cpuDeadlineMs: 1000, jsHeapMb: 64 },
    };
    const args = childNodeArgs(compiled, spec, probe);
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: {} });
    const out = JSON.parse(stdout);
    expect(out['read /etc/passwd']).toBe('ERR_ACCESS_DENIED');
    expect(out['write outside']).toBe('ERR_ACCESS_DENIED');
    expect(out['child process']).toBe('ERR_ACCESS_DENIED');
    expect(out['write own folder']).toBe('allowed');
    expect(out.env).toBe(0);
  });
});
