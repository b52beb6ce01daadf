import pg from 'pg';
import { storeParams } from './sanitise.js';
import type { Queryable, Store } from './store.js';

/** A PostgreSQL server by URL: a pool of connections, one per transaction. */
export async function openPostgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server must not crash the control plane; the next query reports it.
  pool.on('error', () => {});
  // Fail at open, not at the first request, when the URL is wrong.
  const probe = await pool.connect();
  probe.release();
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, storeParams(params));
      return result.rows as Row[];
    },
  });
  const direct = wrap(pool);
  return {
    kind: 'postgres',
    query: direct.query,
    async transaction(work) {
      const client = await pool.connect();
      // The pool listens for a lost connection only on idle clients. A checked-out one that
      // loses its server (a restart, a failover) emits 'error', which would end the process:
      // noted here instead, the transaction's next query fails, and the client is discarded.
      let lost: Error | undefined;
      const onError = (err: Error): void => void (lost = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.removeListener('error', onError);
        client.release(lost);
      }
    },
    close: () => pool.end(),
    listen: (channel, onPayload, onReconnect) => listenOn(url, channel, onPayload, onReconnect),
  };
}

/**
 * A dedicated connection that LISTENs (a pooled one would lose the subscription when released).
 * A lost connection is reopened after a pause; waiters time out meanwhile, so nothing hangs.
 */
async function listenOn(url: string, channel: string, onPayload: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const reopen = (): void => {
    retry = setTimeout(() => {
      open().then(() => {
        if (!stopped) onReconnect?.();
      }, reopen);
    }, 1000);
    retry.unref();
  };
  const open = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => {
      if (n.channel === channel) onPayload(n.payload ?? '');
    });
    c.on('error', () => {
      if (stopped) return;
      void c.end().catch(() => {});
      reopen();
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    if (stopped) await c.end();
    else client = c;
  };
  await open();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
