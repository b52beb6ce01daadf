import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentWit } from '@bytecodealliance/jco';
import { projectRoot } from '../common/paths.js';
import { buildAllFixtures, buildFixtures, fixturePath, fixturePathIn, FIXTURE_OUT_DIR } from './fixtures/build.js';
import { fixtures, type FixtureSpec } from './fixtures/catalog.js';

const run = promisify(execFile);
const ENTRY = 'berth:host/entry@0.1.0';
const LOG = 'berth:host/log@0.1.0';

/** What each built component must import and export, exactly (as componentWit prints them). */
const expected: Record<string, { imports: string[]; exports: string[] }> = {
  hello: { imports: [LOG], exports: [ENTRY, 'add: func(a: u32, b: u32) -> u32'] },
  spin: { imports: [], exports: [ENTRY, 'add: func(a: u32, b: u32) -> u32'] },
  membomb: { imports: [], exports: [ENTRY, 'pages: func() -> u32', 'grow: func(delta: u32) -> s32'] },
  trap: { imports: [], exports: [ENTRY] },
  recurse: { imports: [], exports: [ENTRY] },
  'hang-on-start': { imports: [], exports: [ENTRY] },
  ungranted: { imports: ['berth:host/identity@0.1.0', LOG], exports: [ENTRY] },
  logflood: { imports: [LOG], exports: [ENTRY] },
  // Heap hostiles (docs/hostile.md "Heap").
  tablebomb: { imports: [], exports: ['grow-table: func(delta: u32) -> s32', 'fill-table: func(step: u32) -> u32', 'table-size: func() -> u32'] },
  handlebomb: {
    imports: ['wasi:io/poll@0.2.12', 'wasi:clocks/monotonic-clock@0.2.12'],
    exports: ['berth:fixtures/handles@0.1.0', 'hoard-timers: func(count: u32) -> u32', 'churn-timers: func(count: u32) -> u32'],
  },
  memfarm: { imports: [], exports: ['fill-all: func(step: u32) -> u32', 'fill-one: func(step: u32) -> u32'] },
  memclones: { imports: [], exports: ['fill-all: func(step: u32) -> u32', 'fill-one: func(step: u32) -> u32'] },
  bigvalue: {
    imports: [LOG],
    exports: [
      'shout: func(bytes: u32) -> string',
      'numbers: func(count: u32) -> list<u32>',
      'words: func(count: u32) -> list<string>',
      'log-long: func(bytes: u32)',
      'log-fields: func(count: u32)',
    ],
  },
  // C through wasi-libc and the preview1 command adapter: what the adapter needs, nothing of
  // berth:host; no sockets, no random, no monotonic clock.
  files: {
    imports: [
      'wasi:cli/environment@0.2.12',
      'wasi:cli/exit@0.2.12',
      'wasi:io/error@0.2.12',
      'wasi:io/streams@0.2.12',
      'wasi:cli/stdin@0.2.12',
      'wasi:cli/stdout@0.2.12',
      'wasi:cli/stderr@0.2.12',
      'wasi:cli/terminal-input@0.2.12',
      'wasi:cli/terminal-output@0.2.12',
      'wasi:cli/terminal-stdin@0.2.12',
      'wasi:cli/terminal-stdout@0.2.12',
      'wasi:cli/terminal-stderr@0.2.12',
      'wasi:clocks/wall-clock@0.2.12',
      'wasi:filesystem/types@0.2.12',
      'wasi:filesystem/preopens@0.2.12',
    ],
    exports: ['wasi:cli/run@0.2.12'],
  },
  // Every componentize-js feature is disabled, so the JS engine needs no WASI at all.
  'js-app': {
    imports: [LOG, 'berth:host/config@0.1.0', 'berth:host/keyvalue@0.1.0'],
    exports: [ENTRY, 'bump: func() -> u32', 'fill: func(bytes: u32) -> result<_, string>'],
  },
  // HTTP fixtures (docs/http.md): fetch pulls in StarlingMonkey's own wasi:http 0.2.10 and io
  // 0.2.12; the server uses wasi:http 0.2.12 by hand and a monotonic clock for /hang.
  'http-client': {
    imports: [
      'berth:host/config@0.1.0',
      'wasi:io/poll@0.2.12',
      'wasi:io/error@0.2.12',
      'wasi:io/streams@0.2.12',
      'wasi:http/types@0.2.10',
      'wasi:http/outgoing-handler@0.2.10',
    ],
    exports: ['fetch-url: func(key: string) -> result<string, string>'],
  },
  // The least an HTTP app can be (WAT): wasi:http's types and the streams it writes its body to.
  'http-hello': {
    imports: ['wasi:io/error@0.2.12', 'wasi:io/streams@0.2.12', 'wasi:http/types@0.2.12'],
    exports: ['wasi:http/incoming-handler@0.2.12'],
  },
  'http-server': {
    imports: ['wasi:io/poll@0.2.12', 'wasi:clocks/monotonic-clock@0.2.12', 'wasi:io/error@0.2.12', 'wasi:io/streams@0.2.12', 'wasi:http/types@0.2.12'],
    exports: ['wasi:http/incoming-handler@0.2.12'],
  },
  // Messaging fixture (docs/messaging.md): only the messaging interface.
  messenger: {
    imports: ['berth:host/messaging@0.1.0'],
    exports: [
      'publish: func(topic: string, payload: string) -> result<_, string>',
      'publish-sized: func(topic: string, size: u32) -> result<_, string>',
      'subscribe: func(topic: string) -> result<_, string>',
      'unsubscribe: func(topic: string) -> result<_, string>',
      'receive: func(max: u32) -> result<list<string>, string>',
      'flood: func(topic: string, count: u32, size: u32) -> string',
      'crash: func()',
    ],
  },
  // The round-trip fixture: a test-only host resource in, one interface of echo functions out.
  echo: { imports: ['berth:fixtures/token@0.1.0'], exports: ['berth:fixtures/echo-values@0.1.0'] },
  'echo-scalars': { imports: [], exports: ['berth:fixtures/echo-scalars@0.1.0'] },
};

/** The `import`/`export` lines of componentWit's single world, without the keyword. */
function worldItems(wit: string, kind: 'import' | 'export'): string[] {
  const prefix = `${kind} `;
  return wit
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).replace(/;$/, ''));
}

describe('fixture components', () => {
  it('covers every fixture in the catalog, and only those', () => {
    expect(Object.keys(expected).sort()).toEqual(fixtures.map((f) => f.name).sort());
  });

  for (const { name } of fixtures) {
    it(`${name} is a component whose imports and exports are exactly as specified`, async () => {
      const bytes = await readFile(fixturePath(name));
      // Magic, then version 0x0d and layer 1: a component, not a core module (layer 0).
      expect([...bytes.subarray(0, 8)]).toEqual([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
      const wit = await componentWit(bytes);
      const want = expected[name]!;
      expect(worldItems(wit, 'import').sort()).toEqual([...want.imports].sort());
      expect(worldItems(wit, 'export').sort()).toEqual([...want.exports].sort());
    });
  }

  it('fixturePath names what is missing', () => {
    expect(fixturePath('hello')).toBe(join(FIXTURE_OUT_DIR, 'hello.wasm'));
    expect(() => fixturePath('no-such-fixture')).toThrow(/unknown fixture 'no-such-fixture'.*hello/);
    expect(() => fixturePathIn(join(tmpdir(), 'berth-no-fixtures-here'), 'hello')).toThrow(/fixture 'hello' is not built \(.*hello\.wasm missing\)/);
  });
});

describe('fixture cache', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-fixture-cache-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('does not rebuild unchanged fixtures', async () => {
    const before = await Promise.all(fixtures.map(async (f) => (await stat(join(FIXTURE_OUT_DIR, `${f.name}.wasm`))).mtimeMs));
    await buildAllFixtures();
    const after = await Promise.all(fixtures.map(async (f) => (await stat(join(FIXTURE_OUT_DIR, `${f.name}.wasm`))).mtimeMs));
    expect(after).toEqual(before);
  });

  const tiny = (name: string): FixtureSpec => ({ name, toolchain: 'wat', source: `${name}.wat`, world: 'berth:fixtures/entry-only@0.1.0' });
  const runOk = (marker: number) => `(module (memory (export "memory") 1)
    (func (export "berth:host/entry@0.1.0#run") (result i32) (i32.store8 (i32.const 0) (i32.const 0)) (i32.const ${marker})))`;

  it('rebuilds a fixture when its source changes, and only then', async () => {
    const dir = join(scratch, 'change');
    await mkdir(dir, { recursive: true });
    const spec = tiny('tiny');
    await writeFile(join(dir, 'tiny.wat'), runOk(0));
    const options = { outDir: join(dir, 'out'), sourceDir: dir, fixtures: [spec] };

    expect(await buildFixtures(options)).toEqual({ built: ['tiny'], cached: [] });
    const first = await readFile(join(dir, 'out', 'tiny.wasm'));
    expect(await buildFixtures(options)).toEqual({ built: [], cached: ['tiny'] });

    await writeFile(join(dir, 'tiny.wat'), runOk(8));
    expect(await buildFixtures(options)).toEqual({ built: ['tiny'], cached: [] });
    expect(Buffer.compare(first, await readFile(join(dir, 'out', 'tiny.wasm')))).not.toBe(0);
  });

  it('lets two builder processes race on one output folder', async () => {
    const dir = join(scratch, 'race');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'raced.wat'), runOk(0));
    const options = JSON.stringify({ outDir: join(dir, 'out'), sourceDir: dir, fixtures: [tiny('raced')] });
    const viteNode = join(projectRoot(), 'node_modules', 'vite-node', 'vite-node.mjs');
    const script = join(projectRoot(), 'test', 'fixtures', 'build-cli.ts');
    const runs = await Promise.all([0, 1].map(() => run(process.execPath, [viteNode, script, options], { cwd: projectRoot(), timeout: 60_000 })));
    const reports = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as { built: string[]; cached: string[] });
    expect(reports.flatMap((r) => [...r.built, ...r.cached])).toEqual(['raced', 'raced']);
    const wit = await componentWit(await readFile(join(dir, 'out', 'raced.wasm')));
    expect(worldItems(wit, 'export')).toEqual([ENTRY]);
    // Nothing half-written is left behind: only the component, its key and no temporaries.
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['raced.wasm', 'raced.wasm.key']);
  });

  it('serialises concurrent builds inside one process', async () => {
    const dir = join(scratch, 'same-process');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'a.wat'), runOk(0));
    await writeFile(join(dir, 'b.wat'), runOk(0));
    const build = (name: string) => buildFixtures({ outDir: join(dir, 'out'), sourceDir: dir, fixtures: [tiny(name)] });
    const [a, b] = await Promise.all([build('a'), build('b')]);
    expect([a.built, b.built]).toEqual([['a'], ['b']]);
  });

  it("passes on the compiler's message when a C source does not compile", async () => {
    const dir = join(scratch, 'broken-c');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'broken.c'), 'int main(void) { return missing_symbol; }\n');
    const spec: FixtureSpec = { name: 'broken-c', toolchain: 'c', source: 'broken.c', world: undefined };
    await expect(buildFixtures({ outDir: join(dir, 'out'), sourceDir: dir, fixtures: [spec] })).rejects.toThrow(
      /building fixture 'broken-c' from broken\.c failed: clang .* failed:[\s\S]*missing_symbol/,
    );
  });

  it('names the Debian packages when clang is not installed', async () => {
    const dir = join(scratch, 'no-clang');
    const options = JSON.stringify({ outDir: join(dir, 'out'), fixtures: [fixtures.find((f) => f.name === 'files')] });
    const viteNode = join(projectRoot(), 'node_modules', 'vite-node', 'vite-node.mjs');
    const script = join(projectRoot(), 'test', 'fixtures', 'build-cli.ts');
    const failure = run(process.execPath, [viteNode, script, options], {
      cwd: projectRoot(),
      timeout: 60_000,
      env: { ...process.env, PATH: join(dir, 'empty-path') },
    });
    await expect(failure).rejects.toMatchObject({
      stderr: expect.stringContaining(
        "fixture 'files' needs the c toolchain: clang not found: install the C toolchain with apt-get install clang lld wasi-libc libclang-rt-dev-wasm32",
      ),
    });
  });

  it('fails with the fixture named and writes nothing when a source does not build', async () => {
    const dir = join(scratch, 'broken');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'broken.wat'), '(module (func (export "oops") (result i32)))');
    const options = { outDir: join(dir, 'out'), sourceDir: dir, fixtures: [tiny('broken')] };
    await expect(buildFixtures(options)).rejects.toThrow(/building fixture 'broken' from broken\.wat failed/);
    await expect(stat(join(dir, 'out', 'broken.wasm'))).rejects.toThrow(/ENOENT/);
  });
});
