import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2, resetAfterMs: 60_000 };
const bytes = readFileSync(fixturePath('messenger'));

/** Real sandboxes, two vendors, the messenger fixture deployed with different grants, under each tier. */
for (const tier of ['worker', 'instance', 'process'] as const)
  describe(`messaging between apps of two vendors (${tier} tier)`, () => {
    const runtime = new Runtime({ dataDir: suiteTempDir(`messaging-${tier}`), backoff: FAST_BACKOFF });
    let sensor: AppSupervisor;
    let dashboard: AppSupervisor;
    let slow: AppSupervisor;
    const SLOW_QUEUE = { queueMessages: 20, queueBytes: 20 * 1024 };

    beforeAll(async () => {
      sensor = await runtime.startApp(bytes, {
        tier,
        vendor: 'acme',
        app: 'sensor',
        grants: { messaging: { publish: ['line1/temp', 'line1/bulk'], maxPayloadBytes: 1024 } },
      });
      dashboard = await runtime.startApp(bytes, { tier, vendor: 'globex', app: 'dashboard', grants: { messaging: { subscribe: ['line1/temp'] } } });
      slow = await runtime.startApp(bytes, { tier, vendor: 'initech', app: 'slow', grants: { messaging: { subscribe: ['line1/bulk'], ...SLOW_QUEUE } } });
    });
    afterAll(() => runtime.close());

    const ok = (value: unknown = undefined) => ({ ok: true, value });
    const refused = (message: string) => ({ ok: false, failure: { kind: 'app-error', message } });

    it('delivers a message when the publisher may publish and the subscriber may subscribe', async () => {
      expect(await dashboard.invoke('subscribe', ['line1/temp'])).toEqual(ok());
      expect(await sensor.invoke('publish', ['line1/temp', '21.5'])).toEqual(ok());
      expect(await sensor.invoke('publish', ['line1/temp', '21.7'])).toEqual(ok());
      expect(await dashboard.invoke('receive', [10])).toEqual(ok(['line1/temp=21.5', 'line1/temp=21.7']));
      expect(await dashboard.invoke('receive', [10])).toEqual(ok([]));
    });

    it('refuses publishing without the publish grant, naming the topic', async () => {
      expect(await dashboard.invoke('publish', ['line1/temp', 'spoof'])).toMatchObject(refused('topic-not-granted(line1/temp)'));
    });

    it('refuses subscribing without the subscribe grant, naming the topic', async () => {
      expect(await sensor.invoke('subscribe', ['line1/temp'])).toMatchObject(refused('topic-not-granted(line1/temp)'));
      expect(await dashboard.invoke('subscribe', ['line1/bulk'])).toMatchObject(refused('topic-not-granted(line1/bulk)'));
    });

    it('refuses a payload over the limit, and the app keeps working', async () => {
      expect(await sensor.invoke('publish-sized', ['line1/temp', 1025])).toMatchObject(refused('payload-too-large(1024)'));
      expect(await sensor.invoke('publish-sized', ['line1/temp', 1024])).toEqual(ok());
      const got = await dashboard.invoke('receive', [10]);
      expect(got).toMatchObject({ ok: true, value: [expect.stringMatching(/^line1\/temp=\0{1024}$/)] });
    });

    it('a subscriber that never receives fills only its own queue: the publisher gets queue-full, keeps working, memory stays bounded', async () => {
      expect(await slow.invoke('subscribe', ['line1/bulk'])).toEqual(ok());
      const outcome = await sensor.invoke('flood', ['line1/bulk', 200, 512]);
      // 20 messages of 512 + 10 bytes fit under both limits; the other 180 find the queue full.
      expect(outcome).toEqual(ok('ok 20, queue-full 180'));
      const totals = runtime.broker.totals();
      expect(totals.queuedMessages).toBe(20);
      expect(totals.queuedBytes).toBeLessThanOrEqual(SLOW_QUEUE.queueBytes);
      // Other topics still flow.
      expect(await sensor.invoke('publish', ['line1/temp', 'still here'])).toEqual(ok());
      expect(await dashboard.invoke('receive', [10])).toEqual(ok(['line1/temp=still here']));
    });

    it('unsubscribe stops deliveries', async () => {
      expect(await dashboard.invoke('unsubscribe', ['line1/temp'])).toEqual(ok());
      expect(await sensor.invoke('publish', ['line1/temp', 'unheard'])).toEqual(ok());
      expect(await dashboard.invoke('receive', [10])).toEqual(ok([]));
    });

    it('an instance that stops loses its subscriptions and queue; the restarted one starts clean', async () => {
      const before = runtime.broker.totals();
      expect(before.sessions).toBe(3);
      expect(await sensor.invoke('publish', ['line1/bulk', 'x'])).toMatchObject(refused('queue-full'));
      const stop = new Promise<{ reason: string }>((resolve) => slow.once('stopped', resolve));
      // The call's failure is 'trap' (worker, instance) or 'sandbox-stopped' (process); the stop says trap in each.
      expect(await slow.invoke('crash')).toMatchObject({ ok: false });
      expect((await stop).reason).toBe('trap');
      await waitFor(() => slow.status().state === 'running', 10_000, 'slow restarted');
      // A fresh session for the new instance (the process tier opens it at its first call):
      // nothing queued, not subscribed until it asks again.
      expect(await slow.invoke('receive', [10])).toEqual(ok([]));
      expect(runtime.broker.totals()).toMatchObject({ sessions: 3, queuedMessages: 0, queuedBytes: 0 });
      expect(await sensor.invoke('publish', ['line1/bulk', 'y'])).toEqual(ok());
      expect(runtime.broker.totals()).toMatchObject({ queuedMessages: 0 });
      await slow.stop();
      expect(runtime.broker.totals().sessions).toBe(2);
    });
  });
