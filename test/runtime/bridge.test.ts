import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { distPath } from '../../common/paths.js';
import { serveBridge } from '../../runtime/sandbox/bridge.js';

/** Runs BridgeClient calls in a real worker thread against handlers on this thread. */
async function callFromWorker(handlers: Record<string, (...a: any[]) => unknown>, calls: { method: string; args: unknown[] }[], timeoutMs: number) {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const close = serveBridge({ signal, port: port1 }, handlers);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.bridge).then(({ BridgeClient }) => {
      const client = new BridgeClient(workerData.channel, workerData.timeoutMs);
      const results = workerData.calls.map(({ method, args }) => {
        try { return { ok: true, value: client.call(method, args) }; }
        catch (e) { return { ok: false, error: e && e.message ? { message: e.message, code: e.code } : e }; }
      });
      parentPort.postMessage(results);
    });`;
  const worker = new Worker(code, {
    eval: true,
    workerData: { bridge: 'file://' + distPath('runtime/sandbox/bridge.js'), channel: { signal, port: port2 }, calls, timeoutMs },
    transferList: [port2],
  });
  try {
    return await new Promise<any[]>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  } finally {
    close();
    await worker.terminate();
  }
}

describe('synchronous bridge', () => {
  it('refuses a host call carrying more than the controlling thread should hold, before sending it', async () => {
    const asked: number[] = [];
    const results = await callFromWorker(
      { note: (text: string) => asked.push(text.length) },
      [
        { method: 'note', args: ['x'.repeat(41 * 2 ** 20)] },
        { method: 'note', args: ['fine'] },
      ],
      5_000,
    );
    expect(results[0]).toEqual({ ok: false, error: { code: 'host-call-too-large', message: 'host call note carries more than 80 MiB' } });
    expect(results[1]).toEqual({ ok: true, value: 1 });
    expect(asked).toEqual([4]);
  });

  it('blocks the guest thread while the host does asynchronous work, then returns its answer', async () => {
    const results = await callFromWorker(
      { slowDouble: async (x: number) => (await new Promise((r) => setTimeout(r, 30)), x * 2) },
      [
        { method: 'slowDouble', args: [21] },
        { method: 'slowDouble', args: [5] },
      ],
      5_000,
    );
    expect(results).toEqual([
      { ok: true, value: 42 },
      { ok: true, value: 10 },
    ]);
  });

  it('hands the guest-facing error payload through, and only a message for other errors', async () => {
    const results = await callFromWorker(
      {
        refuse: () => {
          throw { payload: { tag: 'audience-not-granted', val: 'x' } };
        },
        broken: () => {
          throw new Error('disk on fire');
        },
      },
      [
        { method: 'refuse', args: [] },
        { method: 'broken', args: [] },
        { method: 'missing', args: [] },
      ],
      5_000,
    );
    expect(results[0]).toEqual({ ok: false, error: { payload: { tag: 'audience-not-granted', val: 'x' } } });
    expect(results[1]).toEqual({ ok: false, error: { message: 'disk on fire' } });
    expect(results[2].error.payload.val).toMatch(/no host method missing/);
  });

  it('gives up after its timeout, and a late answer is not taken for the next call', async () => {
    // The first answer comes at ~500 ms, after its caller gave up at 300 ms and while the second
    // call (answered at ~550 ms) is waiting: the second call must get its own answer.
    const delays = [500, 250];
    const results = await callFromWorker(
      { slow: (label: string) => new Promise((r) => setTimeout(() => r(label), delays.shift())) },
      [
        { method: 'slow', args: ['late'] },
        { method: 'slow', args: ['prompt'] },
      ],
      300,
    );
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'host-call-timeout' } });
    expect(results[1]).toEqual({ ok: true, value: 'prompt' });
  });
});
