import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { findBubblewrap, nodeExecutable, type ProcessSandbox } from '../../runtime/sandbox/process-sandbox.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

// Under /tmp on purpose, whatever TMPDIR says: bubblewrap gives the child a private /tmp, and a
// Node installed there (CI unpacks Node 24 there) must still be found behind it.
const home = mkdtempSync('/tmp/berth-node-home-');
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** This process's Node binary, installed again under /tmp (a hard link where it can, else a copy). */
function nodeUnderTmp(): string {
  const bin = join(home, 'node-v-test', 'bin');
  mkdirSync(bin, { recursive: true });
  const node = join(bin, 'node');
  try {
    linkSync(nodeExecutable(), node);
  } catch {
    copyFileSync(nodeExecutable(), node);
  }
  return node;
}

/** The executables of a process and its descendants (bwrap forks before it execs the node). */
function executablesUnder(pid: number, depth = 4): string[] {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  if (depth === 0) return [exe];
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return [exe, ...children.flatMap((c) => executablesUnder(c, depth - 1))];
}

describe('process tier: the Node binary the child runs', () => {
  const node = nodeUnderTmp();
  // A version manager's shim or npm's .bin: a symlink, itself under /tmp, to the binary.
  const shim = join(home, 'shim-node');
  symlinkSync(node, shim);

  it('the sandbox is there to hide /tmp (bubblewrap is one of the Debian packages the tests need)', () => {
    expect(findBubblewrap()).toBe('bwrap');
  });

  for (const [what, given] of [
    ['a Node binary under /tmp', node],
    ['a symlink under /tmp to a Node binary under /tmp', shim],
  ] as const) {
    it(`runs the app with ${what}`, async () => {
      const logger = { info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never;
      const runtime = new Runtime({ dataDir: suiteTempDir('process-node'), logger, processTier: { bubblewrap: 'auto', node: given } });
      try {
        const app = await runtime.startApp(readFileSync(fixturePath('hello')), { vendor: 'acme', app: 'hello-node', grants: { log: {} }, tier: 'process' });
        const sandbox = app.currentSandbox as ProcessSandbox;
        expect(sandbox.bubblewrapped).toBe(true);
        expect(await app.invoke('add', [40, 2])).toEqual({ ok: true, value: 42 });
        // The child is bwrap; below it runs the binary given, found behind the private /tmp.
        expect(executablesUnder(sandbox.pid!)).toContain(node);
        await app.stop();
      } finally {
        await runtime.close();
      }
    });
  }
});
