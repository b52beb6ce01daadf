import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reconcileOnce } from '../../orchestrator/scheduling/reconcile.js';
import { openStore } from '../../orchestrator/store/store.js';
import { exposureCsv, type ExposureReport } from '../../orchestrator/advisories/exposure.js';

describe('exposure reports as CSV', () => {
  it('quotes per RFC 4180 and defuses cells a spreadsheet would run as formulas', () => {
    const report: ExposureReport = {
      advisory: 'CVE-2026-1234',
      generatedAt: '2026-12-07T00:00:00.000Z',
      groupBy: 'site',
      groups: [],
      devices: [
        {
          deviceId: '-gw-1',
          group: '=HYPERLINK("http://x","a, b")',
          offlineSince: null,
          deployments: [
            {
              deploymentId: 'd1',
              app: 'meter',
              exposed: [{ version: '1.0.0', digest: null, from: '2026-12-01T00:00:00.000Z', to: null }],
              now: { state: 'running-affected', version: '1.0.0', since: '2026-12-01T00:00:00.000Z' },
            },
          ],
        },
      ],
    };
    const lines = exposureCsv(report).split('\r\n');
    expect(lines[0]).toBe('device_id,group,offline_since,deployment_id,app,version,digest,from,to,now,now_version,now_since');
    expect(lines[1]).toBe(
      `'-gw-1,"'=HYPERLINK(""http://x"",""a, b"")",,d1,meter,1.0.0,,2026-12-01T00:00:00.000Z,,running-affected,1.0.0,2026-12-01T00:00:00.000Z`,
    );
    expect(lines[2]).toBe('');
  });
});

describe('the run history behind exposure reports', () => {
  it('forgets runs that ended longer ago than its retention, at the periodic reconcile, and keeps the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-runs-'));
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    try {
      const run = (device: string, endedDaysAgo: number | null) =>
        store.query(
          `INSERT INTO device_app_runs (device_id, deployment_id, app_id, version, digest, started_at, ended_at)
           VALUES ($1, 'd', 'meter', '1.0.0', NULL, now() - interval '1000 days', CASE WHEN $2::int IS NULL THEN NULL ELSE now() - make_interval(days => $2::int) END)`,
          [device, endedDaysAgo],
        );
      await run('long-gone', 31);
      await run('recent', 29);
      await run('still-running', null);
      const result = await reconcileOnce({ store, changed: async () => {}, staleAfterMs: 3_600_000, overlapMs: 0, runHistoryDays: 30 });
      expect(result.skipped).toBe(false);
      const left = await store.query<{ device_id: string }>('SELECT device_id FROM device_app_runs ORDER BY device_id');
      expect(left.map((r) => r.device_id)).toEqual(['recent', 'still-running']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
