import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../oci/local-registry.js';

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

const BIN = process.env.BERTH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function chaosPostgres(root: string): Promise<ChaosPostgres> {
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  const user = postgresUser();
  if (user.uid !== undefined && user.gid !== undefined) for (const d of [root, dataDir, socketDir]) chownSync(d, user.uid, user.gid);
  execFileSync(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'berth', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe', cwd: root, ...user });
  const port = await freePort();
  const url = `postgres://berth@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let log = '';

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
    url,
    async start() {
      const args = ['-D', dataDir, '-h', '127.0.0.1', '-p', String(port), '-k', socketDir, '-c', 'max_connections=80', '-c', 'fsync=off'];
      const c = spawn(join(BIN, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, ...user });
      child = c;
      c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      for (const deadline = Date.now() + 60_000; ; ) {
        if (c.exitCode !== null) throw new Error(`postgres exited early: ${log}`);
        const client = new pg.Client({ connectionString: url });
        try {
          await client.connect();
          await client.end();
          return;
        } catch {
          await client.end().catch(() => {});
          if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 60 s: ${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    crash: () => signal('SIGQUIT'),
    stop: () => signal('SIGINT'),
  };
  await server.start();
  return server;
}

/** One short-lived connection for the test's own queries, so a database restart never leaves a broken pool behind. */
export async function withDatabase<T>(url: string, work: (q: { query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> }) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work({ query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as Row[] });
  } finally {
    await client.end().catch(() => {});
  }
}
