import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import { createConfigHost, secretRedactor } from '../../host-apis/config.js';
import { parseGrants } from '../../host-apis/grants.js';
import { KeyvalueStore } from '../../host-apis/keyvalue.js';
import { linkHostApis } from '../../host-apis/linker.js';
import { AppLogger, createLogHost, DROP_REPORT_INTERVAL_MS, LineSplitter } from '../../host-apis/log.js';
import { suiteTempDir } from '../support/tmp.js';

const enc = (s: string) => new TextEncoder().encode(s);
const guestError = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { payload: unknown }).payload;
  }
  throw new Error('expected the host call to fail');
};

describe('keyvalue', () => {
  const root = suiteTempDir('kv');

  it('keeps values across a reopen (the app restarted) and lists keys', () => {
    const dir = join(root, 'persist');
    const a = new KeyvalueStore(dir, 1024);
    a.set('count', enc('41'));
    a.set('name/with/slashes and spaces', enc('x'));
    const b = new KeyvalueStore(dir, 1024);
    expect(new TextDecoder().decode(b.get('count'))).toBe('41');
    expect(b.keys()).toEqual(['count', 'name/with/slashes and spaces']);
    expect(b.usedBytes).toBe(a.usedBytes);
    expect(b.delete('count')).toBe(true);
    expect(b.exists('count')).toBe(false);
    expect(b.get('missing')).toBeUndefined();
  });

  it('refuses a write past the quota and keeps the old value', () => {
    const kv = new KeyvalueStore(join(root, 'quota'), 100);
    kv.set('a', new Uint8Array(50));
    expect(guestError(() => kv.set('b', new Uint8Array(60)))).toEqual({ tag: 'quota-exceeded', val: 100n });
    expect(kv.exists('b')).toBe(false);
    // Overwriting counts only the difference.
    kv.set('a', new Uint8Array(90));
    expect(kv.usedBytes).toBe(91);
  });

  it('refuses empty, oversized and NUL keys', () => {
    const kv = new KeyvalueStore(join(root, 'keys'), 1 << 20);
    for (const key of ['', 'x'.repeat(513), 'a\0b']) expect(guestError(() => kv.set(key, enc('v')))).toMatchObject({ tag: 'invalid-key' });
  });

  it('ignores stray and damaged files in its folder', () => {
    const dir = join(root, 'damaged');
    new KeyvalueStore(dir, 1024).set('ok', enc('1'));
    writeFileSync(join(dir, 'junk.kv'), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1));
    writeFileSync(join(dir, 'left.123.tmp'), 'x');
    const kv = new KeyvalueStore(dir, 1024);
    expect(kv.keys()).toEqual(['ok']);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('two apps linked on one device see separate stores', () => {
    const grants = parseGrants({ keyvalue: {} });
    const link = (app: string) =>
      linkHostApis(['berth:host/keyvalue@0.1.0'], {
        identity: { vendor: 'v', app, instance: '1' },
        grants,
        dataDir: join(root, 'apps', app),
        logSink: () => {},
      }).imports['berth:host/keyvalue'] as { set(k: string, v: Uint8Array): void; get(k: string): Uint8Array | undefined };
    link('one').set('secret', enc('mine'));
    expect(link('two').get('secret')).toBeUndefined();
    expect(new TextDecoder().decode(link('one').get('secret'))).toBe('mine');
  });
});

describe('log', () => {
  it('keeps at most the burst, then drops and counts lines over the rate', () => {
    const out: AppLogRecord[] = [];
    const logger = new AppLogger(
      { linesPerSecond: 1, burst: 5 },
      (r) => out.push(r),
      (t) => t,
    );
    const host = createLogHost(logger);
    for (let i = 0; i < 100; i++) host.log('info', `line ${i}`, []);
    expect(out).toHaveLength(5);
    expect(logger.droppedLines).toBe(95);
    host.log('error', 'x'.repeat(10_000), [['k', 'y'.repeat(5000)]]);
    expect(out).toHaveLength(5);
  });

  it('reports the number of dropped lines when logging resumes', async () => {
    const out: AppLogRecord[] = [];
    let now = 0;
    const logger = new AppLogger(
      { linesPerSecond: 10, burst: 1 },
      (r) => out.push(r),
      (t) => t,
    );
    (logger as unknown as { bucket: { now: () => number } }).bucket.now = () => now;
    (logger as unknown as { bucket: { last: number } }).bucket.last = 0;
    const host = createLogHost(logger);
    host.log('info', 'first', []);
    host.log('info', 'dropped', []);
    now = 1000;
    host.log('warn', 'x'.repeat(10_000), [['k', 'v'.repeat(5000)]]);
    expect(out.map((r) => r.message.slice(0, 30))).toEqual(['first', '1 log lines dropped: over the ', 'x'.repeat(30)]);
    expect(out[2]!.message.length).toBeLessThanOrEqual(4097);
    expect(out[2]!.fields!.k!.length).toBeLessThanOrEqual(1025);
    expect(out[2]!.level).toBe('warn');
  });

  it('reports dropped lines at most once a second however often the app is called, and loses no count', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    try {
      const out: AppLogRecord[] = [];
      const logger = new AppLogger(
        { linesPerSecond: 10, burst: 10 },
        (r) => out.push(r),
        (t) => t,
      );
      const host = createLogHost(logger);
      // An HTTP app logging a line per request, 1,000 requests a second for 3 seconds: each
      // request is a call, and the sandbox asks for a report at the end of every call.
      for (let i = 0; i < 3000; i++) {
        host.log('info', `request ${i}`, []);
        logger.reportDropped();
        vi.advanceTimersByTime(1);
      }
      vi.advanceTimersByTime(DROP_REPORT_INTERVAL_MS);
      const reports = out.filter((r) => r.source === 'host');
      const kept = out.filter((r) => r.source === 'log');
      expect(reports.length).toBeGreaterThanOrEqual(3);
      expect(reports.length).toBeLessThanOrEqual(4); // one a second, and the last count after the flood
      expect(kept.length + reports.reduce((n, r) => n + Number(r.fields!.dropped), 0)).toBe(3000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('redacts secret config values from log lines', () => {
    const out: AppLogRecord[] = [];
    const grant = parseGrants({ config: { values: { token: 'tok-12345', name: 'plain' }, secrets: ['token'] } }).config!;
    const host = createLogHost(new AppLogger({ linesPerSecond: 100, burst: 100 }, (r) => out.push(r), secretRedactor(grant)));
    host.log('info', 'using tok-12345 for plain', [['auth', 'Bearer tok-12345']]);
    expect(out[0]!.message).toBe('using [redacted] for plain');
    expect(out[0]!.fields).toEqual({ auth: 'Bearer [redacted]' });
  });

  it('splits stdout bytes into lines, across chunk and UTF-8 boundaries', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = enc('héllo\nwor');
    s.push(bytes.subarray(0, 2));
    s.push(bytes.subarray(2));
    s.push(enc('ld\n'));
    s.push(enc('tail'));
    s.flush();
    expect(lines).toEqual(['héllo', 'world', 'tail']);
  });
});

describe('config', () => {
  it('gives the deployment values and nothing else', () => {
    const host = createConfigHost(parseGrants({ config: { values: { greeting: 'hi' } } }).config!);
    expect(host.get('greeting')).toBe('hi');
    expect(host.get('PATH')).toBeUndefined();
    expect(host.keys()).toEqual(['greeting']);
  });
});
