import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Queryable, Store } from '../store/store.js';

const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The store as this replica uses it: queries (inside transactions too) and transactions, counted
 * and timed, without the SQL as a label (it would be unbounded). Wraps the store once, where it is
 * opened, so every caller's queries are counted alike.
 */
export function instrumentStore(store: Store, registry: Registry): Store {
  const queries = new Counter({
    name: 'berth_store_queries_total',
    help: 'Queries this replica sent to the store, by result (ok, error).',
    labelNames: ['result'],
    registers: [registry],
  });
  const querySeconds = new Histogram({
    name: 'berth_store_query_duration_seconds',
    help: 'Time each store query took, as this replica saw it (waiting for a connection included).',
    buckets: QUERY_BUCKETS,
    registers: [registry],
  });
  const transactions = new Counter({
    name: 'berth_store_transactions_total',
    help: 'Store transactions this replica ran, by result (committed, rolled_back).',
    labelNames: ['result'],
    registers: [registry],
  });
  new Gauge({
    name: 'berth_store_info',
    help: 'The kind of store this replica uses (pglite: embedded, one replica; postgres: by URL, several replicas); always 1.',
    labelNames: ['kind'],
    registers: [registry],
  }).set({ kind: store.kind }, 1);

  const timed = (q: Queryable): Queryable['query'] =>
    async function query(sql, params) {
      const started = performance.now();
      try {
        const rows = await q.query(sql, params);
        queries.inc({ result: 'ok' });
        return rows;
      } catch (err) {
        queries.inc({ result: 'error' });
        throw err;
      } finally {
        querySeconds.observe((performance.now() - started) / 1000);
      }
    } as Queryable['query'];

  return {
    kind: store.kind,
    query: timed(store),
    async transaction(work) {
      try {
        const result = await store.transaction((tx) => work({ query: timed(tx) }));
        transactions.inc({ result: 'committed' });
        return result;
      } catch (err) {
        transactions.inc({ result: 'rolled_back' });
        throw err;
      }
    },
    close: () => store.close(),
    listen: (channel, onPayload, onReconnect) => store.listen(channel, onPayload, onReconnect),
  };
}
