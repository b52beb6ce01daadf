import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../common/paths.js';
import { fixturePath } from './fixtures/build.js';
import { wasmtimeLibrary } from './support/engines.js';
import { suiteTempDir } from './support/tmp.js';

const exec = promisify(execFile);
const berth = join(projectRoot(), 'bin', 'berth.js');

async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [berth, ...args], { timeout: 60_000, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `berth run` says first which engine runs (one line on stderr); the rest of stderr is the app's. */
const ENGINE_LINE = /^berth run: engine (\S+)\n/;
async function runApp(args: string[]): Promise<{ code: number; stdout: string; stderr: string; engine: string | undefined }> {
  const r = await run(args);
  const engine = ENGINE_LINE.exec(r.stderr)?.[1];
  return { ...r, stderr: r.stderr.replace(ENGINE_LINE, ''), engine };
}

describe('berth command', () => {
  const dataDir = suiteTempDir('cli');

  it('inspect --json prints digest, size, imports and exports', async () => {
    const r = await run(['inspect', '--json', fixturePath('hello')]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info).sort()).toEqual(['digest', 'exports', 'imports', 'size']);
    expect(info.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.size).toBe(readFileSync(fixturePath('hello')).length);
    expect(info.imports).toEqual(['berth:host/log@0.1.0']);
    expect(info.exports).toEqual(['add', 'berth:host/entry@0.1.0']);
  });

  // The README shows `berth inspect my-app.wasm` without --json: what a vendor reads first.
  it('inspect prints digest, size, imports and exports as text', async () => {
    const file = fixturePath('hello');
    const r = await run(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^digest +sha256:[0-9a-f]{64}$/),
      `size     ${readFileSync(file).length} bytes`,
      'imports',
      '  berth:host/log@0.1.0',
      'exports',
      '  add',
      '  berth:host/entry@0.1.0',
      '',
    ]);
  });

  it('inspect refuses a file that is not a component, with exit code 1 and a reason', async () => {
    const r = await run(['inspect', join(projectRoot(), 'package.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a valid WebAssembly component/);
  });

  // The SBOM's content is test/sbom's; these are the command's own: where it writes, exit codes, messages.
  it('sbom prints a CycloneDX 1.6 SBOM of a component, named from --repository', async () => {
    const r = await run(['sbom', fixturePath('hello'), '--repository', 'registry.example/acme/greeter', '--version', '1.0.0']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const sbom = JSON.parse(r.stdout);
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component: { name: 'greeter', version: '1.0.0' } } });
    expect(sbom.metadata.component.purl).toMatch(/^pkg:oci\/greeter@sha256:[0-9a-f]{64}\?repository_url=registry\.example%2Facme%2Fgreeter$/);
  });

  it('sbom --lock --out writes the file, making its folder, and says where', async () => {
    const dir = suiteTempDir('cli-sbom');
    const lock = join(dir, 'go.sum');
    writeFileSync(lock, 'rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n');
    const out = join(dir, 'out', 'hello.cdx.json');
    const r = await run(['sbom', fixturePath('hello'), '--lock', lock, '--out', out]);
    expect(r).toMatchObject({ code: 0, stdout: `wrote ${out} (1 component)\n`, stderr: '' });
    const sbom = JSON.parse(readFileSync(out, 'utf8'));
    expect(sbom.metadata.component.name).toBe('hello');
    expect(sbom.components.map((c: { purl: string }) => c.purl)).toEqual(['pkg:golang/rsc.io/quote@v1.5.2']);
  });

  it('sbom usage errors exit 2 with the usage; bad input exits 1 naming what is wrong', async () => {
    const usage = /\n\nusage: berth sbom <component\.wasm>/;
    for (const args of [['sbom'], ['sbom', 'a.wasm', 'b.wasm'], ['sbom', '--self', fixturePath('hello')], ['sbom', '--frobnicate']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(usage);
    }
    expect(await run(['sbom', '--help'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: berth sbom/) });
    const dir = suiteTempDir('cli-sbom-bad');
    const yarn = join(dir, 'yarn.lock');
    writeFileSync(yarn, '');
    expect(await run(['sbom', fixturePath('hello'), '--lock', yarn])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^berth sbom: .*yarn\.lock: not a lock file Berth reads/),
    });
    const cargo = join(dir, 'Cargo.lock');
    writeFileSync(cargo, '[[package]]\nname = "a"\n');
    expect(await run(['sbom', fixturePath('hello'), '--lock', cargo])).toMatchObject({
      code: 1,
      stderr: 'berth sbom: Cargo.lock: line 1: [[package]] has no version\n',
    });
    const notWasm = await run(['sbom', join(projectRoot(), 'package.json')]);
    expect(notWasm).toMatchObject({ code: 1, stderr: expect.stringMatching(/^berth sbom: not a valid WebAssembly component: missing the \\0asm magic/) });
  });

  it('run calls the entry point with the given grants and shows the app log', async () => {
    const r = await run(['run', fixturePath('hello'), '--grant', 'log', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[local/hello info] hello from wat');
  });

  it('run --invoke calls one export with JSON arguments and prints the result', async () => {
    const r = await run(['run', fixturePath('hello'), '--grant', 'log', '--invoke', 'add', '--arg', '40', '--arg', '2', '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 0, stdout: '42\n' });
  });

  // The README's example line, on the JavaScript fixture that imports log, config and keyvalue:
  // the counter it keeps in keyvalue must survive into the next `berth run` over the same data.
  it('run with config and keyvalue grants, as the README shows: the store persists between runs', async () => {
    const dir = suiteTempDir('cli-readme');
    const readme = ['run', fixturePath('js-app'), '--grant', 'log', '--grant', 'config=greeting=hi', '--grant', 'keyvalue=1M', '--data-dir', dir];
    expect(await runApp(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #1\n' });
    expect(await runApp(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #2\n' });
  });

  // The redaction is wired per instance by the host-API linker inside the sandbox; this goes
  // through all of it, where the unit test in test/runtime/host-apis.test.ts only sees the logger.
  it('run never prints a secret the app logs', async () => {
    const secret = `s3cret-${process.pid}`;
    const r = await runApp([
      'run',
      fixturePath('js-app'),
      '--grant',
      'log',
      '--grant',
      `secret=greeting=${secret}`,
      '--grant',
      'keyvalue',
      '--data-dir',
      suiteTempDir('cli-secret'),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '[local/js-app info] [redacted] #1\n' });
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('run gives an app granted outbound-http the same HTTP client as a device: the granted origin answers', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the laptop'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const r = await runApp([
        'run',
        fixturePath('http-client'),
        '--grant',
        `config=target=${origin}/hello`,
        '--grant',
        `outbound-http=${origin}`,
        '--invoke',
        'fetch-url',
        '--arg',
        '"target"',
        '--data-dir',
        dataDir,
      ]);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, stdout: '"200 hello from the laptop"\n' });
    } finally {
      server.close();
    }
  });

  it('run refuses an ungranted import, naming the interface', async () => {
    const r = await run(['run', fixturePath('ungranted'), '--grant', 'log', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/berth:host\/identity@0\.1\.0 needs the "identity" grant/);
  });

  it('run reports a runaway app stopped at its deadline', async () => {
    const r = await run(['run', fixturePath('spin'), '--deadline', '300', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sandbox-stopped: run ran past its 300 ms deadline/);
  });

  // Each engine by name, the Wasmtime library given by flag: the same call, the same answer, and
  // the first stderr line says which engine ran it.
  it('run --engine jco and --engine wasmtime run the same app and say which engine ran', async () => {
    const call = ['run', fixturePath('hello'), '--grant', 'log', '--invoke', 'add', '--arg', '40', '--arg', '2', '--data-dir', dataDir];
    const jco = await runApp([...call, '--engine', 'jco']);
    expect(jco).toMatchObject({ code: 0, stdout: '42\n', stderr: '', engine: expect.stringMatching(/^v8\+jco@\d/) });
    const wasmtime = await runApp([...call, '--engine', 'wasmtime', '--wasmtime-library', await wasmtimeLibrary()]);
    expect(wasmtime).toMatchObject({ code: 0, stdout: '42\n', stderr: '', engine: expect.stringMatching(/^wasmtime@\d+\.\d+\.\d+\+/) });
  });

  it('run --compiler cranelift compiles with Cranelift (its own cached code) and says so; a compiler it does not know is refused', async () => {
    const call = ['run', fixturePath('hello'), '--grant', 'log', '--invoke', 'add', '--arg', '40', '--arg', '2', '--data-dir', dataDir];
    const library = await wasmtimeLibrary();
    const cranelift = await runApp([...call, '--engine', 'wasmtime', '--wasmtime-library', library, '--compiler', 'cranelift']);
    expect(cranelift).toMatchObject({ code: 0, stdout: '42\n', stderr: '', engine: expect.stringMatching(/^wasmtime@\d+\.\d+\.\d+\+cranelift$/) });
    const winch = await runApp([...call, '--engine', 'wasmtime', '--wasmtime-library', library, '--compiler', 'winch']);
    expect(winch).toMatchObject({ code: 0, stdout: '42\n', engine: expect.stringMatching(/\+winch$/) });
    const bad = await run([...call, '--compiler', 'llvm']);
    expect(bad).toMatchObject({ code: 1, stderr: 'berth run: --compiler takes one of winch, cranelift, got "llvm"\n' });
  });

  it('run on Wasmtime keeps the README example working: the JavaScript app and its store', async () => {
    const dir = suiteTempDir('cli-wasmtime');
    const readme = [
      'run',
      fixturePath('js-app'),
      '--grant',
      'log',
      '--grant',
      'config=greeting=hi',
      '--grant',
      'keyvalue=1M',
      '--data-dir',
      dir,
      '--engine',
      'wasmtime',
      '--wasmtime-library',
      await wasmtimeLibrary(),
    ];
    expect(await runApp(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #1\n', engine: expect.stringMatching(/^wasmtime@/) });
    expect(await runApp(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #2\n', engine: expect.stringMatching(/^wasmtime@/) });
  });

  it('run --engine auto without a Wasmtime library says why in one line and runs on jco', async () => {
    const dir = suiteTempDir('cli-auto');
    // No library named, none in this cache, no python3 on PATH: nothing to find.
    const env = { ...process.env, PATH: join(dir, 'no-bin'), XDG_CACHE_HOME: join(dir, 'xdg'), BERTH_WASMTIME_LIBRARY: '' };
    const r = await run(['run', fixturePath('hello'), '--grant', 'log', '--engine', 'auto', '--data-dir', dir], env);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^berth run: no Wasmtime library: none in the cache \(.*\); .*running on jco$/);
    expect(lines[1]).toMatch(/^berth run: engine v8\+jco@/);
    expect(lines.slice(2)).toEqual(['[local/hello info] hello from wat', '']);
  });

  it('run refuses an unknown --engine and a Wasmtime library that is not the pinned one', async () => {
    const bad = await run(['run', fixturePath('hello'), '--engine', 'v8', '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('berth run: --engine takes one of auto, wasmtime, jco, got "v8"\n');
    const fake = join(projectRoot(), 'package.json');
    const wrong = await run(['run', fixturePath('hello'), '--engine', 'wasmtime', '--wasmtime-library', fake, '--data-dir', dataDir]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the configured Wasmtime library ${fake} has sha256`);
    expect(wrong.stderr).toMatch(/: refused\n$/);
  });

  it('unknown commands and grants are usage errors', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    // With --data-dir: the engine's cache folder is made before the grants are read, and would
    // otherwise be left as .berth/ in the working directory.
    const r = await run(['run', fixturePath('hello'), '--grant', 'teleport', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown grant "teleport"/);
  });
});

describe('berth demo --sandbox', () => {
  // As `npm start` runs it after the install command: no engine named, so `auto`, which finds
  // the Wasmtime library the install put in place (named here, as the install's cache may be elsewhere).
  it('runs three sample apps side by side on Wasmtime, says so, and reports each one contained', async () => {
    const env = { ...process.env, BERTH_ENGINE: '', BERTH_WASMTIME_LIBRARY: await wasmtimeLibrary() };
    const r = await run(['demo', '--sandbox'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Berth demo: three apps from the "demo" vendor on one simulated device, on wasmtime@\d+\.\d+\.\d+\+\w+\.\n/);
    expect(r.stdout).toMatch(/greeter\s+running\s+restarts\s+0/);
    expect(r.stdout).toMatch(/runaway\s+\w+\s+restarts\s+[1-9]\d*\s+last stop: deadline/);
    expect(r.stdout).toMatch(/hungry\s+\w+\s+restarts\s+[1-9]\d*\s+last stop: failed \(run returned an error: out of memory\)/);
    expect(r.stdout).toContain('greeter answered all 6 calls');
  });
});
