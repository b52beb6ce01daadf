import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { StatusQueue, type StatusReport } from '../../runtime/agent/status-queue.js';
import { suiteTempDir } from '../support/tmp.js';

const report = (state: StatusReport['status']['state'], adoptedManifestVersion: number): StatusReport => ({
  deploymentId: 'meter',
  deviceId: 'press-1',
  adoptedManifestVersion,
  status: { state },
});

describe('the agent status queue file', () => {
  // Found with the chaos test's full-disk fault (test/chaos) in mind: one failed write used to reject every later
  // one, so the file kept its old entries for the rest of the process and a restart re-sent
  // reports the control plane already had.
  it('is written again after one write failed (a full disk, freed)', async () => {
    const dir = suiteTempDir('status-queue');
    const path = join(dir, 'status-queue.json');
    // A non-empty folder where the file goes: the rename of the write fails, as a full disk would.
    mkdirSync(join(path, 'blocker'), { recursive: true });
    const queue = new StatusQueue(dir, silentLogger);
    await expect(queue.enqueue(report('installing', 2), 'sha256:a')).rejects.toThrow();
    rmSync(path, { recursive: true });
    await queue.enqueue(report('installed', 2), 'sha256:a');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { nextSeq: number; entries: { seq: number; report: StatusReport }[] };
    expect(file.entries.map((e) => [e.seq, e.report.status.state])).toEqual([
      [1, 'installing'],
      [2, 'installed'],
    ]);
    expect(file.nextSeq).toBe(3);
  });
});
