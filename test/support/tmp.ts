import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Registered once, while the importing test file is collected: a hook registered from inside a
// test or another hook is never run, and folders asked for there were left behind.
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed once the test file is done, wherever in it this is called. */
export function suiteTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  made.push(dir);
  return dir;
}
