import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../common/paths.js';
import { fixturePath } from './fixtures/build.js';
import { suiteTempDir } from './support/tmp.js';

const exec = promisify(execFile);
const berth = join(projectRoot(), 'bin', 'berth.js');

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [berth, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
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
    expect(await run(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #1\n' });
    expect(await run(readme)).toMatchObject({ code: 0, stderr: '[local/js-app info] hi #2\n' });
  });

  // The redaction is wired per instance by the host-API linker inside the sandbox; this goes
  // through all of it, where the unit test in test/runtime/host-apis.test.ts only sees the logger.
  it('run never prints a secret the app logs', async () => {
    const secret = `s3cret-${process.pid}`;
    const r = await run(['run', fixturePath('js-app'), '--grant', 'log', '--grant', `secret=greeting=${secret}`, '--grant', 'keyvalue', '--data-dir', suiteTempDir('cli-secret')]);
    expect(r).toMatchObject({ code: 0, stderr: '[local/js-app info] [redacted] #1\n' });
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('run gives an app granted outbound-http the same HTTP client as a device: the granted origin answers', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the laptop'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const r = await run(['run', fixturePath('http-client'), '--grant', `config=target=${origin}/hello`, '--grant', `outbound-http=${origin}`, '--invoke', 'fetch-url', '--arg', '"target"', '--data-dir', dataDir]);
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
  it('runs three sample apps side by side and reports each one contained', async () => {
    const r = await run(['demo', '--sandbox']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/greeter\s+running\s+restarts\s+0/);
    expect(r.stdout).toMatch(/runaway\s+\w+\s+restarts\s+[1-9]\d*\s+last stop: deadline/);
    expect(r.stdout).toMatch(/hungry\s+\w+\s+restarts\s+[1-9]\d*\s+last stop: failed \(run returned an error: out of memory\)/);
    expect(r.stdout).toContain('greeter answered all 6 calls');
  });
});
