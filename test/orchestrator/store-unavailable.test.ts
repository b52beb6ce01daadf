import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { suiteTempDir } from '../support/tmp.js';
import { startHarness, type Harness } from './harness.js';

// A control plane whose PostgreSQL server goes away (a restart, a failover): requests are answered
// 503 store.unavailable with a retry hint, and logged as a warning, never as an internal error
// (the chaos test, test/chaos, restarts the server under load; this is its deterministic case).
describe('the store is unreachable', () => {
  let pg: PostgresServer | undefined;
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.stop().catch(() => {});
    await pg?.stop();
  });

  it('answers 503 with Retry-After, and logs no error', async () => {
    pg = await startPostgres();
    h = await startHarness({ storeUrl: pg.url, dataDir: join(suiteTempDir('store-unavailable'), 'cp'), reconcileIntervalMs: 0, authorityRefreshMs: 0, adminSocket: false });
    expect((await h.admin('GET', '/api/v1/admin/deployments')).status).toBe(200);
    await pg.stop();
    const answer = await h.admin('GET', '/api/v1/admin/deployments');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'store.unavailable', retryable: true, retryAfterSeconds: 2 });
    expect(answer.headers['retry-after']).toBe('2');
    expect(h.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(h.logs.some((l) => l.msg === 'store unreachable; answered 503')).toBe(true);
  });
});
