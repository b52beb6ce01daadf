import type { PGlite } from '@electric-sql/pglite';
import { importOptional, PGLITE } from '../../common/optional-package.js';
import { storeParams } from './sanitise.js';
import type { Queryable, Store } from './store.js';

/**
 * PGlite runs PostgreSQL in this process. It serves one query at a time, so a transaction holds
 * the whole database: that is what makes it correct without row locks, and why several
 * control-plane replicas need a PostgreSQL server instead.
 */
export async function openPgliteStore(dataDir: string): Promise<Store> {
  // Loaded here: a device install leaves PGlite out, and a control plane on PostgreSQL never needs it.
  const { PGlite } = await importOptional<typeof import('@electric-sql/pglite')>(PGLITE);
  const db = await PGlite.create(dataDir);
  const wrap = (q: { query: PGlite['query'] }): Queryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, storeParams(params));
      return result.rows;
    },
  });
  const direct = wrap(db);
  return {
    kind: 'pglite',
    query: direct.query,
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    close: () => db.close(),
    async listen(channel, onPayload) {
      const unlisten = await db.listen(channel, onPayload);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
  };
}
