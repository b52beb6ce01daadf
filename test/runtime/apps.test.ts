import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import { parseGrants } from '../../host-apis/grants.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { runOnce, type RunOnceOptions } from '../../runtime/run-once.js';
import { Runtime } from '../../runtime/runtime.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

const bytes = (name: string) => readFileSync(fixturePath(name));

describe('real components from C and JavaScript', () => {
  const dataDir = suiteTempDir('apps');
  const engine = new JcoEngine({ cacheDir: join(dataDir, 'cache') });
  const once = (name: string, options: Partial<RunOnceOptions>) => {
    const lines: AppLogRecord[] = [];
    const run = runOnce(bytes(name), { engine, vendor: 'acme', app: name, grants: {}, dataDir, fn: 'run', args: [], log: (_, r) => lines.push(r), ...options });
    return { run, lines };
  };

  describe('files (C, wasi-libc): the data directory and nothing else', () => {
    let output: string[];
    let secret: string;
    beforeAll(async () => {
      // Plant escape routes inside the app's own folder, and a neighbour's file beside it.
      const files = join(dataDir, 'apps', 'acme', 'files', 'files');
      mkdirSync(files, { recursive: true });
      symlinkSync('/etc/passwd', join(files, 'link-abs'));
      symlinkSync('../../../../etc/passwd', join(files, 'link-rel'));
      secret = `neighbour-${Date.now()}`;
      mkdirSync(join(dataDir, 'apps', 'acme', 'other', 'files'), { recursive: true });
      writeFileSync(join(dataDir, 'apps', 'acme', 'other', 'files', 'own.txt'), secret);
      process.env.BERTH_TEST_HOST_SECRET = 'must-not-leak';
      const { run, lines } = once('files', { grants: parseGrants({ files: {}, clocks: {} }) });
      const result = await run;
      expect(result.outcome).toEqual({ ok: true, value: undefined });
      output = lines.filter((l) => l.source === 'stdout').map((l) => l.message);
    });
    afterAll(() => {
      delete process.env.BERTH_TEST_HOST_SECRET;
    });

    it('writes and reads back its own file', () => {
      expect(output).toContain('write-own allowed');
      expect(readFileSync(join(dataDir, 'apps', 'acme', 'files', 'files', 'own.txt'), 'utf8')).toBe('mine');
    });

    for (const label of ['etc-passwd', 'dotdot', 'relative-dotdot', 'symlink-abs', 'symlink-rel']) {
      it(`is refused: ${label}`, () => {
        const line = output.find((l) => l.startsWith(`${label} `));
        expect(line).toMatch(new RegExp(`^${label} denied `));
      });
    }

    it('sees no host environment variable', () => {
      expect(output).toContain('env denied none');
    });

    it('is refused outright without the files grant', async () => {
      await expect(once('files', { grants: parseGrants({ clocks: {} }) }).run).rejects.toThrow(/wasi:filesystem\/types@0\.2\.12 needs the "files" grant/);
    });

    it('stays within its file quota', async () => {
      const { run, lines } = once('files', { app: 'files-tiny', grants: parseGrants({ files: { quotaBytes: 2 }, clocks: {} }) });
      await run;
      // wasi-libc prints the WASI errno number for ENOSPC (51) where it has no name for it.
      expect(lines.map((l) => l.message)).toContainEqual(expect.stringMatching(/^write-own denied (ENOSPC|51)$/));
    });
  });

  describe('js-app (componentize-js): config and a private key-value store', () => {
    const grants = parseGrants({ log: {}, config: { values: { greeting: 'guten tag' } }, keyvalue: { quotaBytes: 4096 } });

    it('reads its config and keeps its counter across restarts of the runtime', async () => {
      const dir = suiteTempDir('js-runtime');
      for (const expected of ['guten tag #1', 'guten tag #2']) {
        const messages: string[] = [];
        const runtime = new Runtime({
          dataDir: dir,
          logger: { info: (_: unknown, m: string) => messages.push(m), warn() {}, error() {}, debug() {}, trace() {} } as never,
        });
        await runtime.startApp(bytes('js-app'), { vendor: 'acme', app: 'js', grants });
        await waitFor(() => messages.includes(expected), 15_000, expected);
        await runtime.close();
      }
    });

    it('gets the quota error as its own error result, and the instance keeps running', async () => {
      const { run } = once('js-app', { app: 'js-quota', grants, fn: 'fill', args: [10_000] });
      const result = await run;
      expect(result.outcome).toMatchObject({ ok: false, failure: { kind: 'app-error', message: expect.stringContaining('quota-exceeded') } });
      expect(result.stop).toBeUndefined();
    });
  });
});
