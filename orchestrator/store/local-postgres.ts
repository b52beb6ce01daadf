import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../oci/local-registry.js';

/**
 * A PostgreSQL server from Debian's packages (postgresql-15) on 127.0.0.1 at a free port, with
 * its data in a temp dir that `stop()` removes: what the store tests and the fleet benchmark's
 * `--store postgres` run against. Not a production deployment (that is the operator's server).
 * PostgreSQL refuses to run as root, so as root it runs as `postgres`.
 */
export interface LocalPostgres {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** Turn durability off (fsync): fine for tests, not for figures a real server would see. */
  fast?: boolean;
  /** Prefix of the temp dir. */
  name?: string;
}

const BIN = process.env.BERTH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** uid/gid to run PostgreSQL as: `postgres` when we are root, ourselves otherwise. */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

/** A new database cluster in `root` (data and socket folders), owned by the user PostgreSQL runs as, with a free port chosen. */
export interface PostgresCluster {
  root: string;
  dataDir: string;
  socketDir: string;
  port: number;
  url: string;
  user: { uid?: number; gid?: number };
}

export async function initPostgresCluster(root: string): Promise<PostgresCluster> {
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  const user = postgresUser();
  if (user.uid !== undefined && user.gid !== undefined) for (const d of [root, dataDir, socketDir]) chownSync(d, user.uid, user.gid);
  // cwd must be readable by the postgres user, or initdb complains about it.
  execFileSync(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'berth', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe', cwd: root, ...user });
  const port = await freePort();
  return { root, dataDir, socketDir, port, url: `postgres://berth@127.0.0.1:${port}/postgres`, user };
}

/** The server process on a cluster; `log()` is the tail of what it wrote to stderr. */
export function spawnPostgres(cluster: PostgresCluster, settings: readonly string[]): { child: ChildProcess; log: () => string } {
  const args = ['-D', cluster.dataDir, '-h', '127.0.0.1', '-p', String(cluster.port), '-k', cluster.socketDir, ...settings.flatMap((s) => ['-c', s])];
  const child = spawn(join(BIN, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: cluster.root, ...cluster.user });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  return { child, log: () => log };
}

/** Waits until the server takes connections; throws (with its log) if it exits first or `ms` pass. */
export async function waitUntilAccepting(url: string, server: { child: ChildProcess; log: () => string }, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    if (server.child.exitCode !== null) throw new Error(`postgres exited early: ${server.log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in ${ms / 1000} s: ${server.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const cluster = await initPostgresCluster(mkdtempSync(join(tmpdir(), `${options.name ?? 'berth-pg'}-`)));
  const server = spawnPostgres(cluster, ['max_connections=50', ...(options.fast ? ['fsync=off'] : [])]);
  const { child } = server;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT'); // fast shutdown
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(cluster.root, { recursive: true, force: true });
  };
  try {
    await waitUntilAccepting(cluster.url, server, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: cluster.url, pid: child.pid!, stop };
}
