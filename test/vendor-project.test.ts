import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../host-apis/grants.js';
import { readProject } from '../cli/project.js';
import { fixturePath } from './fixtures/build.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'berth-vendor-project-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function berth(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return berthWith({}, cwd, ...args);
}

async function berthWith(env: NodeJS.ProcessEnv, cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(ROOT, 'bin/berth.js'), ...args], { cwd, timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('berth new, berth build and berth run --serve: the project and its bad inputs', () => {
  it('writes a project whose berth.yaml reads back, with grants a deployment takes as they are', async () => {
    const made = await berth(dir, 'new', 'js', 'meter-ui', '--vendor', '9acme', '--dir', 'mu');
    expect(made.code, made.stderr).toBe(0);
    const project = await readProject(join(dir, 'mu', 'src'));
    expect(project).toMatchObject({ app: 'meter-ui', vendor: '9acme', version: '0.1.0', root: join(dir, 'mu') });
    expect(parseGrants(project.grants)).toMatchObject({ 'inbound-http': { route: '/meter-ui' }, config: { values: { greeting: 'Hello' } } });
    // A vendor name WIT refuses as a namespace gets a prefix rather than a broken world.
    expect(readFileSync(join(dir, 'mu', 'wit', 'world.wit'), 'utf8')).toContain('package v-9acme:meter-ui@0.1.0;');
    expect(statSync(join(dir, 'mu', '.gitignore')).isFile()).toBe(true);
  });

  it('refuses an unknown template, a name that cannot be an app, and a folder that is not empty', async () => {
    const cases: [string[], RegExp][] = [
      [['new', 'cobol', 'x'], /no template 'cobol'; templates: js, c/],
      [['new', 'js', 'Hello'], /'Hello' cannot name an app/],
      [['new', 'js', '1st'], /'1st' cannot name an app/],
      [['new', 'js', 'ok', '--vendor', 'A B'], /'A B' cannot name a vendor/],
      [['new', 'js', 'mu'], /is not empty/],
      [['new', 'js'], /expected a template and a name/],
    ];
    for (const [args, message] of cases) {
      const r = await berth(dir, ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(readFileSync(join(dir, 'mu', 'berth.yaml'), 'utf8')).toContain('app: meter-ui');
  });

  it('the C template: built with clang and wasi-libc, run locally with its grants, its data kept between runs', async () => {
    expect((await berth(dir, 'new', 'c', 'counter', '--vendor', 'acme')).code).toBe(0);
    const counter = join(dir, 'counter');
    const built = await berth(counter, 'build');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/built dist\/counter\.wasm .*sha256:[0-9a-f]{64}/);
    expect(built.stdout).toContain('wasi:filesystem/preopens');
    for (const start of [1, 2]) {
      const ran = await berth(counter, 'run', '--engine', 'jco');
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stderr).toContain(`[acme/counter info stdout] hello from counter, start ${start}`);
    }
    // Without the toolchain, the template says what to install rather than writing a project that cannot build.
    const nodeOnly = join(dir, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const bare = await berthWith({ PATH: nodeOnly }, dir, 'new', 'c', 'nope');
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('the c template cannot be built here: clang not found: install the C toolchain with apt-get install clang lld wasi-libc');
  }, 120_000);

  it('berth build names what is wrong with the project before building anything', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'wit'), { recursive: true });
    expect((await berth(bad, 'build')).stderr).toMatch(/no berth\.yaml in .* or any folder above it/);
    const cases: [string, RegExp][] = [
      ['app: [unclosed', /is not YAML/],
      ['app: hello\nvendor: acme\nversion: one\nsource: src/app.js\nworld: app\n', /version: SemVer/],
      ['app: hello\nvendor: acme\nversion: 0.1.0\nsource: src/app.js\nworld: app\ncolour: red\n', /Unrecognized key/],
      ['app: hello\nvendor: acme\nversion: 0.1.0\nsource: src/app.js\nworld: app\ngrants:\n  inbound-http: {}\n', /grants: invalid grant inbound-http/],
      ['app: hello\nvendor: acme\nversion: 0.1.0\nsource: src/app.js\n', /world: a JavaScript app names the world/],
      ['app: hello\nvendor: acme\nversion: 0.1.0\nsource: src/app.rs\n', /neither JavaScript \(\.js, \.mjs\) nor C \(\.c\)/],
      ['app: hello\nvendor: acme\nversion: 0.1.0\nsource: src/app.js\nworld: app\n', /cannot read .*world\.wit/],
    ];
    for (const [yaml, message] of cases) {
      writeFileSync(join(bad, 'berth.yaml'), yaml);
      const r = await berth(bad, 'build');
      expect(r.code, yaml).toBe(1);
      expect(r.stderr, yaml).toMatch(message);
    }
    writeFileSync(join(bad, 'wit', 'world.wit'), 'world app {}\n');
    expect((await berth(bad, 'build')).stderr).toMatch(/no `package namespace:name@version;` line/);
  });

  it('berth run --serve refuses a bad address, an app without inbound-http, and --grant in a project', async () => {
    const mu = join(dir, 'mu');
    expect((await berth(mu, 'run', '--serve', 'nowhere')).stderr).toMatch(/--serve takes HOST:PORT or PORT/);
    expect((await berth(mu, 'run', '--serve', '127.0.0.1:70000')).stderr).toMatch(/--serve takes HOST:PORT or PORT/);
    expect((await berth(mu, 'run', '--serve', '0', '--grant', 'log')).stderr).toMatch(/a project's grants are in its berth\.yaml/);
    expect((await berth(dir, 'run', '--serve', '0')).stderr).toMatch(/expected a component file, or a project here/);
    const plain = await berth(dir, 'run', fixturePath('hello'), '--serve', '0', '--engine', 'jco');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/serving needs an inbound-http grant/);
    // Not built yet: the file is named.
    expect((await berth(mu, 'run', '--serve', '0')).stderr).toMatch(/dist\/meter-ui\.wasm/);
  });
});
