import { readdirSync, readFileSync } from 'node:fs';
import { startLocalPostgres, type LocalPostgres } from '../orchestrator/store/local-postgres.js';

/**
 * The fleet bench's `--store postgres`: a local server with default durability settings, so the
 * figures are what a real deployment would see, not a tuned-down server.
 */
export const startBenchPostgres = (): Promise<LocalPostgres> => startLocalPostgres({ name: 'berth-bench-pg' });

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
