import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { parsePrometheusText } from '../support/prometheus.js';

/** `berth orchestrator start --metrics-listen host:port`, as an operator runs it (from dist/, as `npm test` builds it). */
const dir = mkdtempSync(join(tmpdir(), 'berth-metrics-cli-'));
const bin = join(projectRoot(), 'bin', 'berth.js');
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('berth orchestrator start --metrics-listen', () => {
  it('serves /metrics without a token on the address given, and says where', async () => {
    if (!existsSync(join(projectRoot(), 'dist', 'cli', 'orchestrator.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    child = spawn(process.execPath, [bin, 'orchestrator', 'start', '--data-dir', join(dir, 'cp'), '--port', '0', '--metrics-listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    const said = /metrics for Prometheus: (https:\/\/\S+\/metrics) \(admin or operator token\), (http:\/\/127\.0\.0\.1:\d+\/metrics) \(no token\)/;
    while (!said.test(out)) {
      if (child.exitCode !== null) throw new Error(`control plane exited ${child.exitCode}: ${err}`);
      if (Date.now() > deadline) throw new Error(`control plane did not start within 60 s: ${out} ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const plain = said.exec(out)![2]!;
    const res = await fetch(plain);
    expect(res.status).toBe(200);
    const m = parsePrometheusText(await res.text());
    expect(m.value('berth_store_info', { kind: 'pglite' })).toBe(1);
    expect(m.value('berth_devices', { status: 'active' })).toBe(0);
  });

  it('refuses an address that is not host:port before starting anything', async () => {
    for (const bad of ['9464', 'localhost', '127.0.0.1:99999', '::1:9464']) {
      const r = await promisify(execFile)(process.execPath, [bin, 'orchestrator', 'start', '--metrics-listen', bad, '--data-dir', join(dir, 'never')]).then(
        () => ({ code: 0, err: '' }),
        (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
      );
      expect(r.code, bad).toBe(1);
      expect(r.err).toContain('--metrics-listen must be host:port');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
