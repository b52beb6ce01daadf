import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { AdoptedStateStore } from '../../runtime/agent/adopted-state.js';
import { LastKnownGood, type LastKnownGoodRecord } from '../../runtime/agent/last-known-good.js';

/**
 * The chaos test started an agent on a full disk: saving a last-known-good record failed, the
 * error ended startAgent, and the agent could not start until the disk had room. A record that
 * cannot be saved is kept in memory, logged, and written again later; nothing fails.
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const record: LastKnownGoodRecord = {
  deploymentId: 'meter',
  good: { digest: `sha256:${'1'.repeat(64)}`, version: '1.0.0', component: `sha256:${'2'.repeat(64)}` },
  candidate: { digest: `sha256:${'3'.repeat(64)}`, version: '1.1.0' },
  state: 'probation',
};

describe('last-known-good records on a disk that refuses writes', () => {
  it('keeps the record, logs a warning, and writes it once the disk takes it again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-lkg-'));
    dirs.push(dir);
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ name: 'test', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const file = join(dir, 'desired', 'last-known-good.json');
    // A folder where the file goes: every write (temp file, then rename over it) fails, as on a full disk.
    await mkdir(file, { recursive: true });
    const records = new LastKnownGood(dir, new AdoptedStateStore(dir, logger), 'press-1', logger, 100);

    await expect(records.set(record)).resolves.toBeUndefined();
    expect(records.record('meter')).toEqual(record);
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes('could not save the last-known-good records'))).toBe(true);

    await rm(file, { recursive: true });
    const deadline = Date.now() + 10_000;
    let saved: string | undefined;
    while (!saved && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      saved = await readFile(file, 'utf8').catch(() => undefined);
    }
    expect(JSON.parse(saved!).records).toEqual([record]);
  });
});
