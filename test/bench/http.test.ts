import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseHttpArgs, type HttpReport } from '../../bench/http.js';
import { parseResponse } from '../../bench/http-load-client.js';
import { parseWrk } from '../../bench/http-load.js';
import { benchEngines, HTTP_APPS } from '../../bench/http-targets.js';
import { projectRoot } from '../../common/paths.js';
import { TIERS } from '../../wire/tier.js';

const exec = promisify(execFile);

/**
 * `npm run bench -- http` is how docs/benchmarks.md's HTTP figures are made. This short run keeps
 * it working: the demo's sensor app and the `hello` app through the device gateway on every engine (jco and Wasmtime)
 * and tier, and the bare Node handler, each answered requests from the load process and none failed. No figure's
 * size is asserted (performance is the benchmark's business, not the suite's).
 */
describe('npm run bench -- http, short run', () => {
  it('loads the bare handler and each app on every engine and tier; every target answers, none fails', async () => {
    const args = ['http', '--seconds', '0.5', '--warmup', '0.2', '--connections', '2', '--load', 'node'];
    const { stdout } = await exec(process.execPath, [join(projectRoot(), 'bin', 'bench.js'), ...args], { timeout: 420_000 });
    const lines = stdout.trimEnd().split('\n');
    const json = JSON.parse(lines.at(-1)!) as {
      machine: { node: string };
      results: { bench: string; figures: { name: string; value: number }[]; data: HttpReport }[];
    };
    expect(json.machine.node).toBe(process.version);
    expect(json.results.map((r) => r.bench)).toEqual(['http']);
    const report = json.results[0]!.data;
    expect({ tool: report.tool, connections: report.connections, path: report.path }).toEqual({ tool: 'node', connections: 2, path: '/sensor/reading' });
    const wanted = HTTP_APPS.flatMap((app) => benchEngines().flatMap((engine) => TIERS.map((tier) => `${app} ${engine}/${tier}`)));
    expect(report.apps.map((a) => a.target)).toEqual(wanted);
    expect(new Set(report.apps.map((a) => a.path))).toEqual(new Set(['/sensor/reading', '/hello/']));
    expect(report.apps.map((a) => a.engine)).toContain('wasmtime');
    for (const t of [report.bare, ...report.apps]) {
      expect({ target: t.target, failure: t.failure, errors: t.errors, errorKinds: t.errorKinds }).toEqual({
        target: t.target,
        failure: undefined,
        errors: 0,
        errorKinds: [],
      });
      expect(t.requests, `${t.target} answered`).toBeGreaterThan(0);
      for (const v of [t.requestsPerSecond, t.p50Ms, t.p99Ms, t.ratio]) expect(Number.isFinite(v) && v > 0, `${t.target}: ${v}`).toBe(true);
      expect(t.p50Ms).toBeLessThanOrEqual(t.p99Ms);
    }
    // The readable table first: requests/s, p50, p99, errors and the share of bare, per target.
    expect(lines[0]).toBe('# http');
    for (const target of wanted) {
      for (const figure of ['requests/s', 'p50', 'p99', 'errors', 'share of bare'])
        expect(
          lines.some((l) => l.startsWith(`${target} via gateway: ${figure}`)),
          `${target} ${figure}`,
        ).toBe(true);
    }
    // Issue 13's target, judged for every app and Wasmtime tier: at least 25 % of the bare handler's rate.
    for (const app of HTTP_APPS)
      for (const tier of TIERS) {
        expect(
          lines.some(
            (l) =>
              l.startsWith(`note: target: ${app} wasmtime/${tier} via gateway: share of the bare handler's requests/s ≥ 25 %: `) && / — (met|NOT met)$/.test(l),
          ),
          `${app} ${tier}`,
        ).toBe(true);
      }
  }, 480_000);

  it('refuses options out of bounds, naming them', () => {
    expect(() => parseHttpArgs(['--seconds', '600'])).toThrow(/--seconds must be a number from 0.2 to 60/);
    expect(() => parseHttpArgs(['--connections', '0'])).toThrow(/--connections/);
    expect(() => parseHttpArgs(['--tiers', 'worker,vm'])).toThrow(/unknown tier 'vm'/);
    expect(() => parseHttpArgs(['--path', '/analytics/x'])).toThrow(/--path must be under the sensor's route/);
    expect(() => parseHttpArgs(['--load', 'ab'])).toThrow(/--load must be one of auto, node, wrk/);
    expect(() => parseHttpArgs(['--engines', 'jco,v8'])).toThrow(/unknown engine 'v8'/);
    expect(() => parseHttpArgs(['--apps', 'hello,wordpress'])).toThrow(/--apps: unknown app 'wordpress'; apps: sensor, hello/);
    expect(parseHttpArgs(['--apps', 'hello']).apps).toEqual(['hello']);
    expect(parseHttpArgs([])).toMatchObject({ seconds: 5, connections: 8, path: '/sensor/reading', tiers: TIERS, engines: ['jco', 'wasmtime'] });
    expect(parseHttpArgs(['--engines', 'wasmtime']).engines).toEqual(['wasmtime']);
  });

  it("reads wrk's figures, counting non-2xx answers and socket errors as errors", () => {
    const out = [
      'Running 5s test @ http://127.0.0.1:1234/sensor/reading',
      '  Latency Distribution',
      '     50%  241.00us',
      '     75%    0.89ms',
      '     99%    1.20s',
      '  4000 requests in 5.01s, 6.36MB read',
      '  Socket errors: connect 0, read 2, write 0, timeout 1',
      '  Non-2xx or 3xx responses: 7',
      'Requests/sec:    798.40',
    ].join('\n');
    const r = parseWrk(out);
    expect(r).toMatchObject({ tool: 'wrk', requests: 3993, errors: 10, p50Ms: 0.241, p99Ms: 1200, seconds: 5.01 });
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/no request count/);
  });

  it('frames responses by Content-Length and calls anything else an error', () => {
    const ok = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
    expect(parseResponse(ok)).toEqual({ status: 200, length: ok.length });
    expect(parseResponse(ok.subarray(0, ok.length - 1))).toBe('incomplete');
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'))).toBe('response without Content-Length');
    expect(parseResponse(Buffer.from('SSH-2.0\r\n\r\n'))).toBe('not an HTTP/1.x response');
  });
});
