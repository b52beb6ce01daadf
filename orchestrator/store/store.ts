/**
 * The control plane's store: one PostgreSQL schema reached either through PGlite (embedded, one
 * process, a data directory on disk) or through a PostgreSQL server by URL (several replicas).
 * Code above this file sees only `Queryable` and `Store`, so both run the same SQL.
 */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Store extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Calls `onPayload` for every `NOTIFY <channel>` committed by anyone on this database (this
   * process included); resolves to a function that stops listening. PostgreSQL: one dedicated
   * connection per call, reopened when lost; `onReconnect` runs once it listens again, since
   * whatever was notified meanwhile is gone (a cache fed by these payloads must forget all).
   * PGlite: its in-process notifications, never lost.
   */
  listen(channel: string, onPayload: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
}

export type StoreLocation = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };

/** Opens the store and brings its schema up to date. */
export async function openStore(location: StoreLocation): Promise<Store> {
  const { migrate } = await import('./migrate.js');
  const store =
    location.kind === 'pglite'
      ? await (await import('./pglite.js')).openPgliteStore(location.dataDir)
      : await (await import('./postgres.js')).openPostgresStore(location.url);
  try {
    await migrate(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
