import { describe, expect, it } from 'vitest';
import { WASM_PAGE } from '../../runtime/engine/core-wasm/memory-limit.js';
import { bytes, hostileBench, TIERS } from './support.js';

/** 64 pages: the limit the hostile apps get, all their memories together. */
const LIMIT_BYTES = 4 * 2 ** 20;
const LIMIT_PAGES = LIMIT_BYTES / WASM_PAGE;

/**
 * Hostile apps with several linear memories (docs/hostile.md, "Heap"). Linear memory is off the
 * JavaScript heap, so no worker limit stops it; what it adds up to is the device's RAM, and the
 * kernel's OOM killer would take the whole device runtime. All memories of one app together stay
 * within its memory limit, whatever the number of core modules or instances.
 */
/** Wasmtime counts a component's core instances before it compiles it; jco as its glue makes them. */
const onWasmtime = process.env.BERTH_ENGINE === 'wasmtime';

for (const tier of TIERS)
  describe(`hostile linear memory, ${tier} tier`, () => {
    const bench = hostileBench(`memory-${tier}`);
    const start = (fixture: string, app: string, memoryBytes = LIMIT_BYTES) =>
      bench.runtime.startApp(bytes(fixture), { vendor: 'mallory', app, grants: {}, tier, limits: { memoryBytes } });

    it('four core modules growing a memory each reach the app limit in all, not four times it', async () => {
      await bench.whileNeighbourAnswers(async () => {
        const app = await start('memfarm', 'farm');
        // 4 pages at start, 60 to grow shared evenly: 16 pages each, and memory.grow fails past them.
        expect(await app.invoke('fill-all', [1])).toEqual({ ok: true, value: LIMIT_PAGES });
        expect(await app.invoke('fill-one', [1])).toEqual({ ok: true, value: LIMIT_PAGES / 4 });
        expect(await app.invoke('fill-all', [LIMIT_PAGES])).toEqual({ ok: true, value: LIMIT_PAGES });
        // Usage counts every memory the app's core instances export, not only the first (jco;
        // Wasmtime's C API does not show a component's memories: docs/engine.md, "Known gaps").
        if (!onWasmtime) expect(app.usage()!.memory).toMatchObject({ pages: LIMIT_PAGES, peakPages: LIMIT_PAGES });
        await app.stop();
      });
    });

    it('one core module instantiated four times is refused at start: its memories could reach four times the limit', async () => {
      await bench.whileNeighbourAnswers(async () => {
        // The module's one memory may take the whole limit; its second instance would double it
        // (jco refuses at that instance), its four instances quadruple it (Wasmtime counts them all first).
        const reach = onWasmtime ? `${4 * LIMIT_PAGES} pages (16 MiB)` : `${2 * LIMIT_PAGES} pages (8 MiB)`;
        const message = `the component's core instances could grow their memories to ${reach} in all, over its memory limit of ${LIMIT_PAGES} pages (4 MiB)`;
        if (onWasmtime) return void (await expect(start('memclones', 'clones')).rejects.toThrow(message));
        const app = await start('memclones', 'clones');
        expect(app.status()).toMatchObject({ state: 'backoff', lastStop: { reason: 'load-failed', message } });
        await app.stop();
      });
    });

    it('a component whose memories need more than the limit at start is refused, naming the total and the limit', async () => {
      await expect(start('memfarm', 'crowd', 3 * WASM_PAGE)).rejects.toThrow(
        "the component's 4 memories need 4 pages (0.25 MiB) at start in all, over its memory limit of 3 pages (0.1875 MiB)",
      );
      expect(await bench.neighbour.invoke('add', [1, 2])).toEqual({ ok: true, value: 3 });
    });
  });
