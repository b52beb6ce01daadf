import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { BerthError } from '../common/errors.js';

/**
 * One control plane per data directory: the embedded store is not safe to open twice. A lock
 * left by a killed process (kill -9) names a dead pid and is taken over.
 */
export function lockDataDir(path: string): { release(): void } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new BerthError('orchestrator.data_dir_locked', `another control plane (pid ${pid}) is using this data directory`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new BerthError('orchestrator.data_dir_locked', `cannot take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
