import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasiResultError } from '../../host-apis/wasi/result.js';

/** The WIT `err` payload a host call threw; fails the test if it returned or trapped. */
export function errOf(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    if (err instanceof WasiResultError) return err.payload;
    throw new Error(`expected a WASI error result, got a trap: ${String(err)}`);
  }
  throw new Error('expected a WASI error result, but the call succeeded');
}

export interface TempDirs {
  make(prefix: string): string;
  cleanup(): void;
}

export function tempDirs(): TempDirs {
  const made: string[] = [];
  return {
    make(prefix) {
      const dir = mkdtempSync(join(tmpdir(), `berth-wasi-${prefix}-`));
      made.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
