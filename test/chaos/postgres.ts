import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { initPostgresCluster, spawnPostgres, waitUntilAccepting } from '../../orchestrator/store/local-postgres.js';

/**
 * A PostgreSQL server (Debian's postgresql-15) that the chaos test can crash and start again on
 * the same data and port: `crash()` is an immediate shutdown (SIGQUIT: no checkpoint, the next
 * start runs crash recovery), which is what a killed database host looks like to its clients.
 * Unlike test/support/postgres.ts, stopping it does not remove its data.
 */
export interface ChaosPostgres {
  url: string;
  crash(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function chaosPostgres(root: string): Promise<ChaosPostgres> {
  const cluster = await initPostgresCluster(root);
  let child: ChildProcess | undefined;

  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c) return;
    c.kill(sig);
    await Promise.race([exited(c), new Promise((r) => setTimeout(r, 15_000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited(c);
  };

  const server: ChaosPostgres = {
    url: cluster.url,
    async start() {
      const running = spawnPostgres(cluster, ['max_connections=80', 'fsync=off']);
      child = running.child;
      await waitUntilAccepting(cluster.url, running, 60_000);
    },
    crash: () => signal('SIGQUIT'),
    stop: () => signal('SIGINT'),
  };
  await server.start();
  return server;
}

/** One short-lived connection for the test's own queries, so a database restart never leaves a broken pool behind. */
export async function withDatabase<T>(
  url: string,
  work: (q: { query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> }) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work({
      query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as Row[],
    });
  } finally {
    await client.end().catch(() => {});
  }
}
