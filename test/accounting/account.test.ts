import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import { linkHostApis } from '../../host-apis/linker.js';
import { ioHost } from '../../host-apis/wasi/io.js';
import { AppAccount } from '../../runtime/accounting/app-account.js';
import { InstanceMeter } from '../../runtime/accounting/instance-meter.js';
import { UsageLedger } from '../../runtime/accounting/ledger.js';
import { MessageBroker } from '../../runtime/messaging/broker.js';
import type { UsageReport } from '../../runtime/sandbox/protocol.js';

const report = (r: Partial<UsageReport>): UsageReport => ({ memoryPages: 0, jsHeapBytes: undefined, busyMs: 0, blockedMs: 0, hostCalls: {}, ...r });
const stop = (reason: 'trap' | 'deadline' | 'stopped') => ({ reason, message: reason, at: Date.now() });

describe('app account', () => {
  it('adds up cumulative reports over restarts: the last report of each instance counts once', () => {
    const account = new AppAccount();
    account.report('a', report({ memoryPages: 2, busyMs: 5, hostCalls: { 'berth:host/log': 1 } }));
    account.report('a', report({ memoryPages: 3, busyMs: 7, hostCalls: { 'berth:host/log': 4 } }));
    account.recordStop(stop('trap'), 1000);
    // A report trailing the end of instance a is not counted again.
    account.report('a', report({ memoryPages: 3, busyMs: 7, hostCalls: { 'berth:host/log': 4 } }));
    expect(account.snapshot()).toMatchObject({
      memory: { pages: 0, peakPages: 3 },
      cpu: { busyMs: 7 },
      hostCalls: { 'berth:host/log': 4 },
      instances: 1,
      stops: { trap: 1 },
    });
    account.report('b', report({ memoryPages: 1, busyMs: 2, jsHeapBytes: 1234, hostCalls: { 'berth:host/log': 2, 'berth:host/messaging': 9 } }));
    expect(account.snapshot()).toMatchObject({
      memory: { pages: 1, bytes: 65536, peakPages: 3, jsHeapBytes: 1234 },
      cpu: { busyMs: 9, deadlineMs: 0 },
      hostCalls: { 'berth:host/log': 6, 'berth:host/messaging': 9 },
      instances: 2,
    });
  });

  it('records the engine the app was started on, from its first start; a start on another engine replaces it', () => {
    const account = new AppAccount();
    expect(account.snapshot()).not.toHaveProperty('engine');
    account.recordEngine('v8+jco@1.35.0');
    account.report('a', report({ busyMs: 1 }));
    expect(account.snapshot().engine).toBe('v8+jco@1.35.0');
    account.recordEngine('wasmtime@49.0.0+winch');
    expect(account.snapshot().engine).toBe('wasmtime@49.0.0+winch');
  });

  it('charges an invocation ended at its deadline with the deadline, since nothing inside could measure it', () => {
    const account = new AppAccount();
    account.report('a', report({ busyMs: 1 }));
    account.recordStop(stop('deadline'), 200);
    account.recordStop(stop('deadline'), 200);
    expect(account.snapshot().cpu).toEqual({ busyMs: 1, deadlineMs: 400, blockedMs: 0 });
    expect(account.snapshot().stops).toEqual({ deadline: 2 });
  });
});

describe('instance meter (inside the sandbox thread)', () => {
  it('counts busy time without the time blocked in host calls', () => {
    let t = 1000;
    const meter = new InstanceMeter(() => t);
    meter.measure(() => {
      t += 20;
      meter.blocked(() => (t += 30));
      t += 5;
    });
    meter.measure(() => (t += 1));
    const r = meter.report(4);
    expect(r.busyMs).toBe(26);
    expect(r.blockedMs).toBe(30);
    expect(r.memoryPages).toBe(4);
    expect(r.jsHeapBytes).toBeGreaterThan(0);
    expect(meter.report(4, false).jsHeapBytes).toBeUndefined();
  });

  it("counts every guest call of an interface's functions when the linker is given a counter", () => {
    const counts = new Map<string, number>();
    const lines: string[] = [];
    const { imports } = linkHostApis(['berth:host/log@0.1.0', 'wasi:io/streams@0.2.12'], {
      identity: { vendor: 'acme', app: 'a', instance: 'i' },
      grants: parseGrants({ log: {} }),
      dataDir: '/nonexistent',
      logSink: (r) => lines.push(r.message),
      countHostCall: (iface) => counts.set(iface, (counts.get(iface) ?? 0) + 1),
    });
    const log = imports['berth:host/log'] as { log: (level: string, message: string, fields: [string, string][]) => void };
    for (let i = 0; i < 7; i++) log.log('info', `line ${i}`, []);
    expect(lines).toHaveLength(7);
    expect(counts.get('berth:host/log')).toBe(7);
    // Resource classes pass through as they are, so the glue's instanceof checks still hold.
    expect((imports['wasi:io/streams'] as (typeof ioHost)['wasi:io/streams']).OutputStream).toBe(ioHost['wasi:io/streams'].OutputStream);
    // A frozen host object (wasi:io/poll) is wrapped too: its function counts, its class does not change.
    const { imports: pollImports } = linkHostApis(['wasi:io/poll@0.2.12'], {
      identity: { vendor: 'acme', app: 'a', instance: 'i' },
      grants: parseGrants({}),
      dataDir: '/nonexistent',
      logSink: () => {},
      countHostCall: (iface) => counts.set(iface, (counts.get(iface) ?? 0) + 1),
    });
    const poll = pollImports['wasi:io/poll'] as (typeof ioHost)['wasi:io/poll'];
    expect('poll' in poll).toBe(true);
    expect(poll.Pollable).toBe(ioHost['wasi:io/poll'].Pollable);
    expect(poll.poll).not.toBe(ioHost['wasi:io/poll'].poll);
    expect(() => poll.poll([])).not.toThrow(TypeError);
    expect(counts.get('wasi:io/poll')).toBe(1);
  });
});

describe('usage ledger', () => {
  it("is the broker's meter: bytes out for publishers, bytes in and drops for subscribers, per app", () => {
    const ledger = new UsageLedger();
    const broker = new MessageBroker(ledger);
    const grants = (g: unknown) => parseGrants({ messaging: g }).messaging!;
    broker.open({ vendor: 'acme', app: 'p', instance: 'p1' }, grants({ publish: ['t'] }));
    broker.open({ vendor: 'globex', app: 's', instance: 's1' }, grants({ subscribe: ['t'], queueMessages: 2 }));
    broker.subscribe('s1', 't');
    broker.publish('p1', 't', new Uint8Array(10));
    broker.publish('p1', 't', new Uint8Array(10));
    expect(() => broker.publish('p1', 't', new Uint8Array(10))).toThrow(expect.objectContaining({ payload: { tag: 'queue-full' } }));
    broker.receive('s1', 10);
    expect(ledger.find('acme', 'p')!.snapshot()).toMatchObject({ bytes: { in: 0, out: 20 }, messaging: { published: 2, received: 0, dropped: 0 } });
    expect(ledger.find('globex', 's')!.snapshot()).toMatchObject({ bytes: { in: 20, out: 0 }, messaging: { published: 0, received: 2, dropped: 1 } });
    ledger.recordBytes({ vendor: 'acme', app: 'p', instance: 'p1' }, 'in', 100);
    expect(ledger.find('acme', 'p')!.snapshot().bytes).toEqual({ in: 100, out: 20 });
  });
});
