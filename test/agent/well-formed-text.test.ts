import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { isWellFormed, tailText, toWellFormed, truncateText } from '../../common/text.js';
import { StatusQueue } from '../../runtime/agent/status-queue.js';

/**
 * What the agent sends is well-formed text: an error message cut at a limit keeps surrogate pairs
 * whole, and a report holding a lone surrogate (a guest's message) is cleaned before it is
 * queued, so the control plane never gets text it cannot store (issue #12, defect 1).
 */
const EMOJI = '\u{1F600}'; // two UTF-16 code units
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('cutting text on a code-point boundary', () => {
  it('never splits a surrogate pair, at the head or at the tail', () => {
    const message = 'a'.repeat(3999) + EMOJI + 'tail';
    // `slice(0, 4000)` would keep the high half of the emoji alone.
    expect(isWellFormed(message.slice(0, 4000))).toBe(false);
    const cut = truncateText(message, 4000);
    expect(cut).toBe('a'.repeat(3999));
    expect(isWellFormed(cut)).toBe(true);
    expect(truncateText(message, 4001)).toBe('a'.repeat(3999) + EMOJI);
    expect(truncateText(message, 4000, '…')).toBe('a'.repeat(3999) + '…');
    expect(truncateText('short', 4000)).toBe('short');
    const tail = tailText(EMOJI + 'abc', 4);
    expect(tail).toBe('abc');
    expect(toWellFormed(`x\ud800y\udc00${EMOJI}`)).toBe(`x\ufffdy\ufffd${EMOJI}`);
  });
});

describe('the status queue holds only well-formed reports', () => {
  it('a lone surrogate anywhere in a report becomes U+FFFD before it is queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-text-'));
    dirs.push(dir);
    const queue = new StatusQueue(dir, silentLogger);
    await queue.enqueue(
      {
        deploymentId: 'd1',
        deviceId: 'dev',
        adoptedManifestVersion: 1,
        status: { state: 'failed', error: { code: 'trap', source: 'device', message: `boom\ud83d` } },
        components: [{ name: `c\udc00`, state: 'failed' }],
        'x-berth-extensions': { usage: { [`k\ud800`]: 1 } },
      },
      'sha256:doc',
    );
    const [report] = queue.pending();
    expect(report!.status.error!.message).toBe('boom\ufffd');
    expect(report!.components![0]!.name).toBe('c\ufffd');
    expect(report!['x-berth-extensions']).toEqual({ usage: { 'k\ufffd': 1 } });
    // JSON.stringify escapes a lone surrogate as \udXXX, which PostgreSQL refuses: none left.
    expect(JSON.stringify(report)).not.toMatch(/\\u[dD][89a-fA-F]/);
  });
});
