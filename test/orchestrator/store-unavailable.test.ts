import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeUnavailable } from '../../orchestrator/http/store-unavailable.js';
import { openStore } from '../../orchestrator/store/store.js';
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
    h = await startHarness({
      storeUrl: pg.url,
      dataDir: join(suiteTempDir('store-unavailable'), 'cp'),
      reconcileIntervalMs: 0,
      authorityRefreshMs: 0,
      adminSocket: false,
    });
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

describe('the store server goes away in the middle of a transaction', () => {
  let pg: PostgresServer | undefined;
  afterAll(async () => {
    await pg?.stop();
  });

  // A replica of the chaos test (test/chaos) died of this: the pool's checked-out client emitted
  // 'error' with nobody listening, and Node ended the process.
  it('fails that transaction, and the process lives on', async () => {
    pg = await startPostgres();
    const store = await openStore({ kind: 'postgres', url: pg.url });
    try {
      const transaction = store.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await pg!.stop();
        // The connection's end arrives while the transaction holds its client between queries.
        await new Promise((r) => setTimeout(r, 300));
        return tx.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      const err = await transaction.catch((e: unknown) => e);
      expect(storeUnavailable(err)?.status).toBe(503);
    } finally {
      await store.close().catch(() => {});
    }
  });
});
