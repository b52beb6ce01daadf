import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A PostgreSQL server for the fleet bench's `--store postgres` (Debian's postgresql-15, on
 * 127.0.0.1, a free port, data in a temp dir removed at stop). Default durability settings: the
 * figures are what a real deployment would see, not a tuned-down server.
 */
const BIN = process.env.BERTH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });

export async function startBenchPostgres(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'berth-bench-pg-'));
  const data = join(root, 'data');
  mkdirSync(data, { mode: 0o700 });
  // PostgreSQL refuses to run as root.
  const user = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : {};
  if (user.uid !== undefined) for (const d of [root, data]) chownSync(d, user.uid, user.gid!);
  execFileSync(join(BIN, 'initdb'), ['-D', data, '-U', 'berth', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe', cwd: root, ...user });
  const port = await freePort();
  const child = spawn(join(BIN, 'postgres'), ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', root, '-c', 'max_connections=50'], { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, ...user });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `postgres://berth@127.0.0.1:${port}/postgres`;
  for (const deadline = Date.now() + 30_000; ; ) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`postgres did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** CPU seconds (user+system, reaped children included) of a process and its children, from /proc. */
export function processTreeCpuSeconds(pid: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (Number(entry) === pid) total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / tick;
      else if (ppid === pid) total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}
