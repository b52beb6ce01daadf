import { describe, expect, it } from 'vitest';
import { formatBytes, terminalProgress } from '../../oci/progress.js';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = {
    isTTY,
    text: '',
    write(chunk: string) {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('push/pull progress', () => {
  it('shows nothing when the output is not a terminal', () => {
    expect(terminalProgress('pulling x', stream(false))).toBeUndefined();
  });

  it('shows bytes, total and percentage on a terminal and ends the line', () => {
    const s = stream(true);
    const p = terminalProgress('pulling x', s)!;
    p.update(3 * 1024 * 1024, 6 * 1024 * 1024);
    p.update(6 * 1024 * 1024, 6 * 1024 * 1024);
    p.done();
    expect(s.text).toContain('pulling x: 3.0 MiB / 6.0 MiB 50%');
    expect(s.text).toContain('6.0 MiB / 6.0 MiB 100%');
    expect(s.text.endsWith('\n')).toBe(true);
    expect(formatBytes(512)).toBe('512 B');
  });
});
