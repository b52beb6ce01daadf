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

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const root = mkdtempSync(join(tmpdir(), `${options.name ?? 'berth-pg'}-`));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(dataDir, { mode: 0o700 });
  mkdirSync(socketDir, { mode: 0o700 });
  const user = postgresUser();
  if (user.uid !== undefined && user.gid !== undefined) for (const d of [root, dataDir, socketDir]) chownSync(d, user.uid, user.gid);
  // cwd must be readable by the postgres user, or initdb complains about it.
  execFileSync(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'berth', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe', cwd: root, ...user });
  const port = await freePort();
  const args = ['-D', dataDir, '-h', '127.0.0.1', '-p', String(port), '-k', socketDir, '-c', 'max_connections=50', ...(options.fast ? ['-c', 'fsync=off'] : [])];
  const child: ChildProcess = spawn(join(BIN, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, ...user });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `postgres://berth@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT'); // fast shutdown
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(root, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 30_000; ; ) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`postgres exited early: ${log}`);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres did not start in 30 s: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, pid: child.pid!, stop };
}
