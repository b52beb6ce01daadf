/**
 * Berth's WASI host under real components: jco-transpiled (sync instantiation), instantiated
 * with nothing but `createWasiHost`'s import object.
 */
import { readFileSync, symlinkSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentNew, parse, preview1AdapterCommandPath } from '@bytecodealliance/jco';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../fixtures/build.js';
import { WasiExit } from '../../host-apis/wasi/cli.js';
import { createWasiHost, type WasiHost } from '../../host-apis/wasi/wasi-host.js';
import { everyPreview1ImportWat } from './adapter-imports.js';
import { transpileComponent, type Transpiled } from './component.js';
import { tempDirs } from './helpers.js';

const dirs = tempDirs();
const planted = 'BERTH_WASI_COMPONENT_SECRET';
afterEach(() => {
  dirs.cleanup();
  delete process.env[planted];
});

function hostFor(dataDir: string, args: string[] = ['app']): { host: WasiHost; stdout: () => Buffer; stderr: () => string } {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const host = createWasiHost({
    cli: { args, cwd: undefined, stdout: (b) => out.push(b), stderr: (b) => err.push(b) },
    filesystem: { hostDir: dataDir, guestPath: '/data' },
  });
  return { host, stdout: () => Buffer.concat(out), stderr: () => Buffer.concat(err).toString() };
}

function expectImportsSatisfied(component: Transpiled, host: WasiHost): void {
  const provided = Object.keys(host);
  expect(component.imports.length).toBeGreaterThan(0);
  for (const name of component.imports) expect(provided, `import ${name}`).toContain(name);
}

/** Runs a command component's `wasi:cli/run`; returns the exit code (0 when run returns ok). */
function runCommand(instance: Record<string, any>): number {
  try {
    instance.run.run();
    return 0;
  } catch (err) {
    if (err instanceof WasiExit) return err.code;
    throw err;
  }
}

async function adapted(wat: string): Promise<Uint8Array> {
  const adapter = await readFile(preview1AdapterCommandPath());
  return componentNew(await parse(wat), [['wasi_snapshot_preview1', adapter]]);
}

describe('the preview1 command adapter', () => {
  it('finds every WASI interface it can import in createWasiHost, and instantiates', async () => {
    const everything = await transpileComponent('everything', await adapted(everyPreview1ImportWat()));
    try {
      // The adapter jco 1.35 ships imports these 18 interfaces (at wasi 0.2.12).
      expect(everything.imports.sort()).toEqual([
        'wasi:cli/environment',
        'wasi:cli/exit',
        'wasi:cli/stderr',
        'wasi:cli/stdin',
        'wasi:cli/stdout',
        'wasi:cli/terminal-input',
        'wasi:cli/terminal-output',
        'wasi:cli/terminal-stderr',
        'wasi:cli/terminal-stdin',
        'wasi:cli/terminal-stdout',
        'wasi:clocks/monotonic-clock',
        'wasi:clocks/wall-clock',
        'wasi:filesystem/preopens',
        'wasi:filesystem/types',
        'wasi:io/error',
        'wasi:io/poll',
        'wasi:io/streams',
        'wasi:random/random',
      ]);
      const { host } = hostFor(dirs.make('everything'));
      expectImportsSatisfied(everything, host);
      // jco's glue checks every function and class it uses is defined when it instantiates.
      const instance = everything.instantiate(host as unknown as Record<string, unknown>);
      expect(typeof instance.run.run).toBe('function');
    } finally {
      await everything.dispose();
    }
  });
});

describe('the files fixture (C, wasi-libc, preview1 command adapter)', () => {
  let files: Transpiled;
  beforeAll(async () => {
    files = await transpileComponent('files', await readFile(fixturePath('files')));
  });
  afterAll(() => files.dispose());

  it('writes its own data and is refused everything outside it', () => {
    const dataDir = dirs.make('files');
    symlinkSync('/etc/passwd', join(dataDir, 'link-abs'));
    symlinkSync('../../../../etc/passwd', join(dataDir, 'link-rel'));
    process.env[planted] = 'must-not-leak';
    const { host, stdout, stderr } = hostFor(dataDir);
    expectImportsSatisfied(files, host);

    expect(runCommand(files.instantiate(host as unknown as Record<string, unknown>))).toBe(0);

    const lines = stdout().toString().trim().split('\n');
    const result = new Map(
      lines.map((l) => {
        const [label, ...rest] = l.split(' ');
        return [label, rest.join(' ')];
      }),
    );
    expect(stderr()).toBe('');
    expect(result.get('write-own')).toBe('allowed');
    expect(readFileSync(join(dataDir, 'own.txt'), 'utf8')).toBe('mine');
    for (const label of ['etc-passwd', 'dotdot', 'relative-dotdot', 'symlink-abs', 'symlink-rel']) {
      expect(result.get(label), label).toMatch(/^denied /);
    }
    // The escapes that reach Berth's resolver are refused with not-permitted (EPERM).
    expect(result.get('symlink-abs')).toBe('denied EPERM');
    expect(result.get('symlink-rel')).toBe('denied EPERM');
    expect(result.get('dotdot')).toBe('denied EPERM');
    expect(result.get('env')).toBe('denied none');
  });

  it('on a read-only data directory, writing its own file is refused with EROFS', () => {
    const dataDir = dirs.make('files-ro');
    const out: Uint8Array[] = [];
    const host = createWasiHost({
      cli: { args: ['files'], cwd: undefined, stdout: (b) => out.push(b), stderr: (b) => out.push(b) },
      filesystem: { hostDir: dataDir, guestPath: '/data', readOnly: true },
    });
    expect(runCommand(files.instantiate(host as unknown as Record<string, unknown>))).toBe(0);
    expect(Buffer.concat(out).toString()).toMatch(/^write-own denied EROFS$/m);
    expect(existsSync(join(dataDir, 'own.txt'))).toBe(false);
  });
});

describe('a WAT probe through the full preview1 adapter', () => {
  let probe: Transpiled;
  beforeAll(async () => {
    probe = await transpileComponent('probe', await adapted(readFileSync(new URL('probe.wat', import.meta.url), 'utf8')));
  });
  afterAll(() => probe.dispose());

  it('sees no environment, its own args, confined symlinks and paths, a sleeping clock, and exits', () => {
    const dataDir = dirs.make('probe');
    writeFileSync(join(dataDir, 'in.txt'), 'Z');
    process.env[planted] = 'must-not-leak';
    const { host, stdout } = hostFor(dataDir, ['probe', 'one']);
    expectImportsSatisfied(probe, host);

    // proc_exit(7) reaches the host as wasi:cli/exit's `err`: WASI 0.2 exit carries no code.
    expect(runCommand(probe.instantiate(host as unknown as Record<string, unknown>))).toBe(1);

    const EPERM = 63;
    expect([...stdout()]).toEqual([
      0,
      0, // environ_sizes_get: ok, zero variables
      0,
      2, // args_sizes_get: ok, two arguments
      EPERM, // symlink to /etc/passwd
      EPERM, // symlink to ../../etc
      0, // mkdir sub
      EPERM, // open ../x
      0,
      1, // poll_oneoff on a 20 ms clock: ok, one event
      0, // random_get
      0, // clock_time_get
      0,
      'Z'.charCodeAt(0), // open and read in.txt
      0,
      1, // fd_readdir on /data (the adapter asks metadata-hash-at for each entry's inode)
    ]);
    expect(existsSync(join(dataDir, 'link-out')) || existsSync(join(dataDir, 'link2'))).toBe(false);
    expect(existsSync(join(dataDir, 'sub'))).toBe(true);
    expect(() => readlinkSync(join(dataDir, 'link-out'))).toThrow();
  });
});
