import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { Runtime } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

const MiB = 2 ** 20;
const bytes = (name: string) => readFileSync(fixturePath(name));
const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2, resetAfterMs: 60_000 };

describe('worker sandbox under a supervisor', () => {
  const records: { msg: string; vendor?: string; app?: string; reason?: string }[] = [];
  const logger = {
    level: 'info',
    trace() {},
    debug() {},
    info: (o: Record<string, unknown>, msg: string) => records.push({ ...o, msg }),
    warn: (o: Record<string, unknown>, msg: string) => records.push({ ...o, msg }),
    error: (o: Record<string, unknown>, msg: string) => records.push({ ...o, msg }),
  };
  const runtime = new Runtime({ dataDir: suiteTempDir('sandbox'), backoff: FAST_BACKOFF, logger: logger as never });
  afterAll(() => runtime.close());

  let neighbour: AppSupervisor;
  const neighbourAnswers = async () => {
    const outcome = await neighbour.invoke('add', [20, 22]);
    expect(outcome).toEqual({ ok: true, value: 42 });
  };

  it('runs an app: its entry point logs through the log grant, tagged with vendor, app and instance', async () => {
    neighbour = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'hello', grants: { log: {} } });
    expect(neighbour.status().state).toBe('running');
    const line = await waitFor(() => records.find((r) => r.msg === 'hello from wat'));
    expect(line).toMatchObject({ vendor: 'acme', app: 'hello', source: 'log' });
    expect((line as { instance?: string }).instance).toMatch(/^[0-9a-f-]{36}$/);
    await neighbourAnswers();
  });

  it('refuses an app that imports an interface it was not granted, before anything runs', async () => {
    const err = await runtime.startApp(bytes('ungranted'), { vendor: 'acme', app: 'ungranted', grants: { log: {} } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).message).toMatch(/acme\/ungranted refused: berth:host\/identity@0\.1\.0 needs the "identity" grant/);
  });

  it('ends a runaway loop at its deadline and restarts it with growing back-off; the neighbour keeps answering', async () => {
    const spin = await runtime.startApp(bytes('spin'), { vendor: 'acme', app: 'spin', grants: {}, limits: { cpuDeadlineMs: 200 } });
    const stops: { reason: string; restartInMs: number | undefined }[] = [];
    spin.on('stopped', (r) => stops.push(r));
    for (let i = 0; i < 5; i++) await neighbourAnswers();
    await waitFor(() => stops.length >= 3, 10_000, 'three deadline stops');
    expect(stops.every((s) => s.reason === 'deadline')).toBe(true);
    expect(stops[1]!.restartInMs!).toBeGreaterThan(stops[0]!.restartInMs!);
    expect(spin.status().restarts).toBeGreaterThanOrEqual(3);
    await neighbourAnswers();
    await spin.stop();
    expect(spin.status().state).toBe('stopped');
  });

  it('caps linear memory: memory.grow fails inside the guest at the limit', async () => {
    const bomb = await runtime.startApp(bytes('membomb'), { vendor: 'acme', app: 'membomb', grants: {}, limits: { memoryBytes: 4 * MiB } });
    const stop = await new Promise<{ reason: string; message: string }>((resolve) => bomb.once('stopped', resolve));
    // 1 page to start, +16 at a time: 1, 17, 33, 49; 65 would pass the 64-page (4 MiB) cap.
    expect(stop.message).toBe('run returned an error: memory.grow refused at 49 pages');
    await neighbourAnswers();
    await bomb.stop();
  });

  it('reports the guest memory it reached, never past the cap', async () => {
    const { runOnce } = await import('../../runtime/run-once.js');
    const result = await runOnce(bytes('membomb'), {
      engine: runtime.engine,
      vendor: 'acme',
      app: 'membomb-once',
      grants: {},
      dataDir: suiteTempDir('membomb'),
      fn: 'grow',
      args: [1000],
      limits: { memoryBytes: 2 * MiB },
      log: () => {},
    });
    expect(result.outcome).toEqual({ ok: true, value: -1 });
  });

  it('restarts an app that traps, and says why', async () => {
    const trap = await runtime.startApp(bytes('trap'), { vendor: 'acme', app: 'trap', grants: {} });
    const stop = await new Promise<{ reason: string; message: string }>((resolve) => trap.once('stopped', resolve));
    expect(stop.reason).toBe('trap');
    expect(stop.message).toMatch(/unreachable/);
    await neighbourAnswers();
    await trap.stop();
  });

  it('contains unbounded recursion as a trap', async () => {
    const deep = await runtime.startApp(bytes('recurse'), { vendor: 'acme', app: 'recurse', grants: {} });
    const stop = await new Promise<{ reason: string; message: string }>((resolve) => deep.once('stopped', resolve));
    expect(stop.reason).toBe('trap');
    expect(stop.message).toMatch(/call stack/i);
    await neighbourAnswers();
    await deep.stop();
  });

  it('rate-limits a log flood and reports the dropped lines', async () => {
    const before = records.length;
    const started = Date.now();
    // A generous deadline: on a loaded machine 100 000 calls through the glue take many seconds.
    const flood = await runtime.startApp(bytes('logflood'), {
      vendor: 'acme',
      app: 'logflood',
      grants: { log: { linesPerSecond: 5, burst: 20 } },
      limits: { cpuDeadlineMs: 100_000 },
    });
    const floodRecords = () => records.slice(before).filter((r) => r.app === 'logflood');
    const dropReports = () => floodRecords().filter((r) => /^\d+ log lines dropped: over the rate limit$/.test(r.msg));
    const droppedCount = () => dropReports().reduce((n, r) => n + Number(r.msg.split(' ')[0]), 0);
    const kept = () => floodRecords().filter((r) => r.msg === 'flood').length;
    // Every line is either kept or counted in a report: nothing vanishes silently.
    // 100 000 calls through the glue take seconds on a loaded CI machine: wait generously.
    await waitFor(() => droppedCount() + kept() === 100_000, 100_000, 'all flood lines kept or counted');
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(kept()).toBeGreaterThanOrEqual(20);
    expect(kept()).toBeLessThanOrEqual(20 + Math.ceil(5 * elapsedSeconds) + 1);
    await neighbourAnswers();
    await flood.stop();
  }, 120_000);

  it('stops an app on request and does not restart it', async () => {
    const app = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'hello2', grants: { log: {} } });
    await app.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(app.status()).toMatchObject({ state: 'stopped', restarts: 0 });
    expect(await app.invoke('add', [1, 2])).toMatchObject({ ok: false, failure: { kind: 'sandbox-stopped' } });
  });

  it('validates names and grants before starting', async () => {
    await expect(runtime.startApp(bytes('hello'), { vendor: '../etc', app: 'x', grants: {} })).rejects.toThrow(/vendor name/);
    await expect(runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'x', grants: { log: { linesPerSecond: 'many' } } })).rejects.toThrow(
      /log\.linesPerSecond/,
    );
  });
});

describe('pre-started workers', () => {
  it('start apps from the pool, restart from it, and never hand one worker to two apps', async () => {
    const runtime = new Runtime({ dataDir: suiteTempDir('pool'), warmWorkers: 2, backoff: FAST_BACKOFF });
    try {
      const a = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'a', grants: { log: {} } });
      const b = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'b', grants: { log: {} } });
      const trap = await runtime.startApp(bytes('trap'), { vendor: 'acme', app: 'trap', grants: {} });
      const stops: string[] = [];
      trap.on('stopped', (r) => stops.push(r.reason));
      await waitFor(() => stops.length >= 3, 10_000, 'three restarts through the pool');
      expect(await a.invoke('add', [1, 2])).toEqual({ ok: true, value: 3 });
      expect(await b.invoke('add', [3, 4])).toEqual({ ok: true, value: 7 });
      const workers = [a, b].map((s) => (s.currentSandbox as unknown as { threadId: number }).threadId);
      expect(new Set(workers).size).toBe(2);
    } finally {
      await runtime.close();
    }
  });
});

describe('what the runtime keeps of stopped apps', () => {
  const runtime = new Runtime({ dataDir: suiteTempDir('supervised'), backoff: FAST_BACKOFF });
  afterAll(() => runtime.close());

  it('forgets an app stopped for good (an update stops the old version) but keeps one in back-off', async () => {
    const kept = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'kept', grants: { log: {} } });
    const crashing = await runtime.startApp(bytes('trap'), { vendor: 'acme', app: 'crashing', grants: {} });
    await waitFor(() => crashing.status().state === 'backoff' || undefined);
    const old = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'old', grants: { log: {} } });
    await old.stop();
    const left = runtime.supervised();
    expect(left).toContain(kept);
    expect(left).not.toContain(old);
    expect(left).toContain(crashing);
    await old.start();
    expect(runtime.supervised()).toContain(old);
  });

  it('keeps compiled code while any app uses its digest, and drops it once none does', async () => {
    const engine = runtime.engine;
    const a = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'evict-a', grants: { log: {} } });
    const b = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'evict-b', grants: { log: {} } });
    await a.stop();
    const before = engine.stats();
    const c = await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'evict-c', grants: { log: {} } });
    expect(engine.stats().memoryHits).toBe(before.memoryHits + 1);
    for (const s of runtime.supervised()) await s.stop();
    await b.stop();
    await c.stop();
    const after = engine.stats();
    await runtime.startApp(bytes('hello'), { vendor: 'acme', app: 'evict-d', grants: { log: {} } });
    expect(engine.stats()).toMatchObject({ memoryHits: after.memoryHits, diskHits: after.diskHits + 1 });
  });
});
