import { describe, expect, it } from 'vitest';
import { ioHost } from '../../host-apis/wasi/io.js';
import { Pollable, poll, readyPollable, timerPollable } from '../../host-apis/wasi/poll.js';
import { InputStream, IoError, OutputStream } from '../../host-apis/wasi/streams.js';
import { createClocksHost } from '../../host-apis/wasi/clocks.js';
import { errOf } from './helpers.js';

describe('wasi:io', () => {
  it('is keyed the way jco instantiation glue looks it up', () => {
    expect(Object.keys(ioHost).sort()).toEqual(['wasi:io/error', 'wasi:io/poll', 'wasi:io/streams']);
    expect(ioHost['wasi:io/error'].Error).toBe(IoError);
    expect(ioHost['wasi:io/streams']).toEqual({ InputStream, OutputStream });
    expect(ioHost['wasi:io/poll'].poll).toBe(poll);
  });

  it('output streams enforce the check-write permit and the 4096-byte blocking limit (traps)', () => {
    const written: number[] = [];
    const out = new OutputStream({ write: (b) => written.push(b.byteLength) });
    expect(() => out.write(new Uint8Array(1))).toThrow(/permit/);
    expect(out.checkWrite()).toBeGreaterThan(4096n);
    out.write(new Uint8Array(10));
    out.writeZeroes(5n);
    expect(() => out.blockingWriteAndFlush(new Uint8Array(4097))).toThrow(/4096/);
    out.blockingWriteZeroesAndFlush(3n);
    expect(written).toEqual([10, 5, 3]);
  });

  it('a dropped stream reports closed', () => {
    let dropped = 0;
    const input = new InputStream({ read: () => new Uint8Array([1]), drop: () => dropped++ });
    const out = new OutputStream({ write: () => undefined, drop: () => dropped++ });
    input[Symbol.dispose]();
    out[Symbol.dispose]();
    input[Symbol.dispose]();
    expect(dropped).toBe(2);
    expect(errOf(() => input.read(1n))).toEqual({ tag: 'closed' });
    expect(errOf(() => out.checkWrite())).toEqual({ tag: 'closed' });
  });

  it('reads are clamped so a guest cannot make the host allocate without bound', () => {
    let asked = 0;
    const input = new InputStream({ read: (n) => ((asked = n), new Uint8Array(0)) });
    input.read(0xffff_ffff_ffff_ffffn);
    expect(asked).toBe(1 << 20);
  });

  it('splice moves bytes between streams', () => {
    const got: Uint8Array[] = [];
    const input = new InputStream({ read: (n) => new Uint8Array(Math.min(n, 3)).fill(9) });
    const out = new OutputStream({ write: (b) => got.push(b) });
    expect(out.splice(input, 10n)).toBe(3n);
    expect(got).toEqual([new Uint8Array([9, 9, 9])]);
  });
});

describe('wasi:io/poll', () => {
  it('returns the ready pollables at once', () => {
    const later = timerPollable(process.hrtime.bigint() + 60_000_000_000n);
    expect([...poll([later, readyPollable(), later])]).toEqual([1]);
  });

  it('blocks on the earliest timer and returns it (sleeping, not spinning)', () => {
    const start = process.hrtime.bigint();
    const at = start + 30_000_000n;
    let checks = 0;
    const soon = new Pollable({ ready: () => (checks++, process.hrtime.bigint() >= at), readyAt: at });
    const late = timerPollable(start + 60_000_000_000n);
    expect([...poll([late, soon])]).toEqual([1]);
    expect(process.hrtime.bigint()).toBeGreaterThanOrEqual(at);
    // A busy loop would ask the source thousands of times; a sleep asks before and after.
    expect(checks).toBeLessThanOrEqual(4);
    expect(late.ready()).toBe(false);
  });

  it('traps instead of hanging when nothing can ever become ready', () => {
    const never = new Pollable({ ready: () => false });
    expect(() => poll([never])).toThrow(/can ever become ready/);
    expect(() => poll([])).toThrow(/empty/);
  });

  it('waits on an outside source through its waitUntil hook', () => {
    let ready = false;
    const source = new Pollable({ ready: () => ready, waitUntil: () => void (ready = true) });
    source.block();
    expect(ready).toBe(true);
  });

  it('monotonic-clock subscriptions block for their duration', () => {
    const clocks = createClocksHost()['wasi:clocks/monotonic-clock'];
    const before = clocks.now();
    clocks.subscribeDuration(5_000_000n).block();
    expect(clocks.now() - before).toBeGreaterThanOrEqual(5_000_000n);
    const instant = clocks.subscribeInstant(clocks.now() + 5_000_000n);
    expect(instant.ready()).toBe(false);
    instant.block();
    expect(instant.ready()).toBe(true);
    expect(clocks.subscribeInstant(0n).ready()).toBe(true);
  });
});
