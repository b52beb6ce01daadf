import { afterEach, describe, expect, it } from 'vitest';
import { WasiExit, createCliHost } from '../../host-apis/wasi/cli.js';
import { createClocksHost } from '../../host-apis/wasi/clocks.js';
import { MAX_RANDOM_BYTES, createRandomHost } from '../../host-apis/wasi/random.js';
import { errOf } from './helpers.js';

function cli(overrides: Partial<Parameters<typeof createCliHost>[0]> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const host = createCliHost({
    args: ['app', '--flag'],
    cwd: '/data',
    stdout: (b) => out.push(new TextDecoder().decode(b)),
    stderr: (b) => err.push(new TextDecoder().decode(b)),
    ...overrides,
  });
  return { host, out, err };
}

describe('wasi:cli', () => {
  const planted = 'BERTH_WASI_TEST_SECRET';
  afterEach(() => {
    delete process.env[planted];
  });

  it('never exposes the host environment, even when the host has variables', () => {
    process.env[planted] = 'do-not-leak';
    expect(Object.keys(process.env).length).toBeGreaterThan(1);
    const { host } = cli();
    expect(host['wasi:cli/environment'].getEnvironment()).toEqual([]);
  });

  it('gives the app its own arguments and working directory', () => {
    const { host } = cli();
    const env = host['wasi:cli/environment'];
    expect(env.getArguments()).toEqual(['app', '--flag']);
    env.getArguments().push('mutated');
    expect(env.getArguments()).toEqual(['app', '--flag']);
    expect(env.initialCwd()).toBe('/data');
    expect(cli({ cwd: undefined }).host['wasi:cli/environment'].initialCwd()).toBeUndefined();
  });

  it('exit throws WasiExit with the status instead of ending the process', () => {
    const { host } = cli();
    const exit = host['wasi:cli/exit'];
    for (const [call, code] of [
      [() => exit.exit({ tag: 'ok' }), 0],
      [() => exit.exit({ tag: 'err' }), 1],
      [() => exit.exitWithCode(42), 42],
    ] as const) {
      try {
        call();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(WasiExit);
        expect((e as WasiExit).code).toBe(code);
        // jco turns an own `payload` into a result error; an exit must unwind instead.
        expect(Object.hasOwn(e as object, 'payload')).toBe(false);
      }
    }
  });

  it('routes stdout and stderr to the callbacks, with copies of the bytes', () => {
    const { host, out, err } = cli();
    const stdout = host['wasi:cli/stdout'].getStdout();
    const buffer = new TextEncoder().encode('hello\n');
    stdout.blockingWriteAndFlush(buffer);
    buffer.fill(0);
    host['wasi:cli/stderr'].getStderr().blockingWriteAndFlush(new TextEncoder().encode('oops'));
    expect(out).toEqual(['hello\n']);
    expect(err).toEqual(['oops']);
  });

  it('a failing sink is a stream error for the guest, not a trap', () => {
    const { host } = cli({
      stdout: () => {
        throw new Error('log closed');
      },
    });
    const e = errOf(() => host['wasi:cli/stdout'].getStdout().blockingWriteAndFlush(new Uint8Array(1))) as { tag: string };
    expect(e.tag).toBe('last-operation-failed');
  });

  it('stdin is empty and there is no terminal', () => {
    const { host } = cli();
    expect(errOf(() => host['wasi:cli/stdin'].getStdin().read(10n))).toEqual({ tag: 'closed' });
    expect(host['wasi:cli/terminal-stdin'].getTerminalStdin()).toBeUndefined();
    expect(host['wasi:cli/terminal-stdout'].getTerminalStdout()).toBeUndefined();
    expect(host['wasi:cli/terminal-stderr'].getTerminalStderr()).toBeUndefined();
  });
});

describe('wasi:clocks', () => {
  it('wall clock is close to the host clock; monotonic starts near zero and never goes back', () => {
    const host = createClocksHost();
    const wall = host['wasi:clocks/wall-clock'].now();
    expect(Math.abs(Number(wall.seconds) - Date.now() / 1000)).toBeLessThan(5);
    expect(wall.nanoseconds).toBeGreaterThanOrEqual(0);
    expect(wall.nanoseconds).toBeLessThan(1e9);
    const mono = host['wasi:clocks/monotonic-clock'];
    const a = mono.now();
    const b = mono.now();
    expect(b).toBeGreaterThanOrEqual(a);
    // Counted from the host's creation, not from the machine's boot.
    expect(a).toBeLessThan(process.hrtime.bigint());
    expect(a).toBeLessThan(60_000_000_000n);
    expect(mono.resolution()).toBe(1n);
  });
});

describe('wasi:random', () => {
  it('returns the asked number of bytes and distinct values', () => {
    const host = createRandomHost();
    const r = host['wasi:random/random'];
    expect(r.getRandomBytes(32n)).toHaveLength(32);
    expect(r.getRandomBytes(32n)).not.toEqual(r.getRandomBytes(32n));
    expect(r.getRandomU64()).not.toBe(r.getRandomU64());
    expect(host['wasi:random/insecure'].getInsecureRandomBytes(4n)).toHaveLength(4);
    const [x, y] = host['wasi:random/insecure-seed'].insecureSeed();
    expect(typeof x).toBe('bigint');
    expect(x).not.toBe(y);
  });

  it('traps on a request large enough to attack host memory', () => {
    const r = createRandomHost()['wasi:random/random'];
    expect(() => r.getRandomBytes(BigInt(MAX_RANDOM_BYTES) + 1n)).toThrow(RangeError);
    expect(() => r.getRandomBytes(1n << 62n)).toThrow(RangeError);
  });
});
