import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { parseHostPort } from '../../common/host-port.js';
import { isLoopbackHost, serveMetrics } from '../../common/metrics-listener.js';
import { FleetReader } from '../../orchestrator/metrics/fleet-metrics.js';
import type { Queryable } from '../../orchestrator/store/store.js';
import { startHarness } from '../orchestrator/harness.js';
import { parsePrometheusText } from '../support/prometheus.js';

/** A store that answers every query with no rows, counting them; `fail` makes every query throw. */
function countingStore(): Queryable & { queries: number; fail: boolean; gate?: Promise<void> } {
  const store = {
    queries: 0,
    fail: false,
    gate: undefined as Promise<void> | undefined,
    async query<Row extends object>(): Promise<Row[]> {
      store.queries++;
      await store.gate;
      if (store.fail) throw new Error('the store is away');
      return [];
    },
  };
  return store;
}

describe('the fleet figures are read from the store at most once per cache period', () => {
  it('serves scrapes within the period from one read, shares a read in flight, and reads again after it', async () => {
    let now = 1_000;
    const store = countingStore();
    const reader = new FleetReader(store, silentLogger, 5_000, new Registry(), () => now);
    await reader.read();
    const perRead = store.queries;
    expect(perRead).toBeGreaterThan(5);
    now += 4_999;
    await reader.read();
    expect(store.queries).toBe(perRead);
    now += 1;
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const both = Promise.all([reader.read(), reader.read(), reader.read()]);
    open();
    await both;
    expect(store.queries).toBe(2 * perRead);
  });

  it('answers undefined when the store fails, counts the failure, and does not ask again within the period', async () => {
    let now = 0;
    const store = countingStore();
    const registry = new Registry();
    const reader = new FleetReader(store, silentLogger, 5_000, registry, () => now);
    store.fail = true;
    expect(await reader.read()).toBeUndefined();
    expect(store.queries).toBe(1);
    expect(await reader.read()).toBeUndefined();
    expect(store.queries).toBe(1);
    expect(parsePrometheusText(await registry.metrics()).value('berth_fleet_read_failures_total')).toBe(1);
    store.fail = false;
    now += 5_000;
    expect(await reader.read()).toMatchObject({ devices: {}, appVersions: 0 });
  });
});

describe('the plain-HTTP metrics listener', () => {
  it('answers GET and HEAD /metrics, 405 to other methods and 404 elsewhere', async () => {
    const registry = new Registry();
    const listener = await serveMetrics(registry, '127.0.0.1', 0);
    try {
      expect((await fetch(listener.url)).status).toBe(200);
      const head = await fetch(listener.url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect((await fetch(listener.url, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${listener.url}?x=1`)).status).toBe(200);
      expect((await fetch(listener.url.replace('/metrics', '/metrics/x'))).status).toBe(404);
    } finally {
      await listener.close();
    }
  });

  it('fails to start, naming the reason, when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await expect(serveMetrics(new Registry(), '127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      taken.close();
    }
  });

  it("stops a control plane's start when its metrics listener cannot listen, leaving its data directory free", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-metrics-busy-'));
    try {
      await expect(startHarness({ dataDir, metricsListen: { host: '127.0.0.1', port } })).rejects.toMatchObject({
        code: 'orchestrator.metrics_listen',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      });
      const h = await startHarness({ dataDir, metricsListen: { host: '127.0.0.1', port: 0 } });
      expect((await fetch(h.cp.metricsListener!.url)).status).toBe(200);
      await h.stop();
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reads host:port and knows loopback addresses', () => {
    expect(parseHostPort('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseHostPort('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseHostPort('metrics.internal:0')).toEqual({ host: 'metrics.internal', port: 0 });
    for (const bad of ['9464', ':9464', '127.0.0.1', '127.0.0.1:65536', '::1:9464', 'a b:1']) expect(parseHostPort(bad), bad).toBeUndefined();
    for (const yes of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(yes), yes).toBe(true);
    for (const no of ['0.0.0.0', '10.0.0.5', '::', 'example.com', '128.0.0.1']) expect(isLoopbackHost(no), no).toBe(false);
  });
});
