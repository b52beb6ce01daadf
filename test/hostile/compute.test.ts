import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/app-logs.js';
import { bytes, hostileBench, nextStop, TIERS } from './support.js';

const MiB = 2 ** 20;

/** Hostile apps that try to exhaust the device: CPU, memory, stack, restarts, logs. */
for (const tier of TIERS)
  describe(`hostile compute, ${tier} tier`, () => {
    const bench = hostileBench(`compute-${tier}`);
    const start = (fixture: string, app: string, extra: object = {}) =>
      bench.runtime.startApp(bytes(fixture), { vendor: 'mallory', app, grants: {}, tier, ...extra });

    it('an endless loop is ended at its CPU deadline', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('spin', 'loop', { limits: { cpuDeadlineMs: 300 } });
        expect(await nextStop(app)).toMatchObject({ reason: 'deadline' });
        await app.stop();
      });
    });

    it('a memory bomb meets its ceiling inside the guest', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('membomb', 'bomb', { limits: { memoryBytes: 8 * MiB } });
        // 1 + 16k pages until 8 MiB (128 pages) refuses: 113 is the last size it reached.
        expect(await nextStop(app)).toMatchObject({ reason: 'failed', message: 'run returned an error: memory.grow refused at 113 pages' });
        await app.stop();
      });
    });

    it('unbounded recursion is a trap, not a crash of the host', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('recurse', 'deep');
        expect(await nextStop(app)).toMatchObject({ reason: 'trap', message: expect.stringMatching(/call stack/i) });
        await app.stop();
      });
    });

    it('a trap storm is restarted with growing back-off, not as fast as it crashes', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('trap', 'storm');
        const delays: number[] = [];
        app.on('stopped', (r) => r.restartInMs !== undefined && delays.push(r.restartInMs));
        await waitFor(() => delays.length >= 4, 20_000, 'four restarts');
        await app.stop();
        expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
      });
    });

    it('a log flood is cut to its rate and the drops are counted', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('logflood', 'flood', { grants: { log: { linesPerSecond: 5, burst: 10 } }, limits: { cpuDeadlineMs: 100_000 } });
        await waitFor(() => bench.lines.some((l) => l.app === 'flood' && /log lines dropped/.test(l.msg)), 100_000, 'a drop report');
        await app.stop();
        const kept = bench.lines.filter((l) => l.app === 'flood' && l.msg === 'flood').length;
        expect(kept).toBeGreaterThanOrEqual(10);
        expect(kept).toBeLessThan(1_000);
      });
    }, 120_000);
  });
