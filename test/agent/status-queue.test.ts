import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { Backoff } from '../../runtime/agent/backoff.js';
import type { ControlPlaneClient } from '../../runtime/agent/control-plane-client.js';
import { StatusQueue, type StatusReport } from '../../runtime/agent/status-queue.js';
import { waitFor } from './support.js';
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
    // Kept in memory: the enqueue does not fail (the chaos test lost a report that way).
    await expect(queue.enqueue(report('installing', 2), 'sha256:a')).resolves.toBe(true);
    rmSync(path, { recursive: true });
    await queue.enqueue(report('installed', 2), 'sha256:a');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { nextSeq: number; entries: { seq: number; report: StatusReport }[] };
    expect(file.entries.map((e) => [e.seq, e.report.status.state])).toEqual([
      [1, 'installing'],
      [2, 'installed'],
    ]);
    expect(file.nextSeq).toBe(3);
  });

  // Found by the chaos test (test/chaos, a device restarted on a full disk): the report was
  // accepted, the save after it failed, and nothing wrote the file again, so it kept the report
  // for ever and a restart would have sent it again.
  it('is saved again after a delivery whose save failed, once there is room', async () => {
    const dir = suiteTempDir('status-queue-delivery');
    const path = join(dir, 'status-queue.json');
    const queue = new StatusQueue(dir, silentLogger);
    await queue.enqueue(report('installed', 2), 'sha256:a');
    rmSync(path);
    mkdirSync(join(path, 'blocker'), { recursive: true });
    const sent: unknown[] = [];
    // The control plane accepts every report.
    const client = { request: async (_path: string, o: { json: unknown }) => (sent.push(o.json), { status: 201 }) } as unknown as ControlPlaneClient;
    const stop = new AbortController();
    const running = queue.run(client, new Backoff({ initialMs: 20, maxMs: 50 }), stop.signal);
    try {
      await waitFor(() => sent.length === 1, 5_000, 'the report to be sent');
      await new Promise((r) => setTimeout(r, 200));
      rmSync(path, { recursive: true });
      await waitFor(
        () => existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as { entries: unknown[] }).entries.length === 0,
        5_000,
        'the emptied queue to be saved',
      );
    } finally {
      stop.abort();
      await running;
    }
    expect(sent).toHaveLength(1);
  });

  // Found by the chaos test (an agent started on a full disk): a report queued while the file
  // could not be written was dropped from the sender's view, and the rollout waited for it.
  it('sends a report queued while the file cannot be written', async () => {
    const dir = suiteTempDir('status-queue-full');
    const path = join(dir, 'status-queue.json');
    mkdirSync(join(path, 'blocker'), { recursive: true });
    const queue = new StatusQueue(dir, silentLogger);
    const sent: { status: { state: string } }[] = [];
    const client = {
      request: async (_path: string, o: { json: { status: { state: string } } }) => (sent.push(o.json), { status: 201 }),
    } as unknown as ControlPlaneClient;
    const stop = new AbortController();
    const running = queue.run(client, new Backoff({ initialMs: 20, maxMs: 50 }), stop.signal);
    try {
      await new Promise((r) => setTimeout(r, 100));
      await queue.enqueue(report('installed', 3), 'sha256:b');
      await waitFor(() => sent.length === 1, 5_000, 'the report to be sent although the queue file could not be written');
      expect(sent[0]!.status.state).toBe('installed');
    } finally {
      stop.abort();
      await running;
    }
  });
});
