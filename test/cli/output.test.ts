import { describe, expect, it } from 'vitest';
import { cellText, fields, outputFormat, table } from '../../cli/output.js';
import { bar, formatBytes, progress } from '../../cli/progress.js';

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

describe('tables', () => {
  it('aligns columns under upper-case headers, two spaces apart, with no trailing blanks', () => {
    const rows = [
      { id: 'a', labels: ['x', 'y'], note: null },
      { id: 'longer-id', labels: [], note: 'two\nlines' },
    ];
    expect(
      table(rows, [
        { header: 'id', cell: (r) => r.id },
        { header: 'labels', cell: (r) => r.labels },
        { header: 'note', cell: (r) => r.note },
      ]),
    ).toBe('ID         LABELS  NOTE\na          x,y     -\nlonger-id  -       two lines\n');
    expect(table([], [{ header: 'id', cell: () => 1 }])).toBe('ID\n');
    expect(
      fields([
        ['id', 'a'],
        ['created', new Date(0)],
        ['policy', { a: 1 }],
      ]),
    ).toBe('id       a\ncreated  1970-01-01T00:00:00.000Z\npolicy   {"a":1}\n');
    expect(cellText({})).toBe('-');
  });

  it('takes -o table, json or yaml, and nothing else', () => {
    expect(outputFormat(undefined)).toBe('table');
    expect(outputFormat('yaml')).toBe('yaml');
    expect(() => outputFormat('wide')).toThrow("-o must be table, json or yaml, not 'wide'");
  });
});

describe('progress', () => {
  it('draws a bar redrawn in place on a terminal, and ends the line', () => {
    const s = stream(true);
    const p = progress('pulling x', { unit: 'bytes', stream: s });
    p.update(3 * 1024 * 1024, 6 * 1024 * 1024);
    p.update(6 * 1024 * 1024, 6 * 1024 * 1024);
    p.finish();
    expect(s.text).toContain(`\r${bar(1, 2)} pulling x: 3.0 MiB/6.0 MiB 50%\x1b[K`);
    expect(s.text).toContain('[########################] pulling x: 6.0 MiB/6.0 MiB 100%');
    expect(s.text.endsWith('\n')).toBe(true);
    expect(bar(1, 2)).toBe(`[${'#'.repeat(12)}${'-'.repeat(12)}]`);
    expect(formatBytes(512)).toBe('512 B');
  });

  it('prints plain lines off a terminal: bytes every tenth, counts on each change, no carriage returns', () => {
    const s = stream(false);
    const p = progress('pulling x', { unit: 'bytes', stream: s });
    for (let done = 0; done <= 100; done += 5) p.update(done * 1024, 100 * 1024);
    p.finish('pulled');
    const lines = s.text.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[5]).toBe('pulling x: 50.0 KiB/100.0 KiB 50%');
    expect(lines.at(-1)).toBe('pulled');
    expect(s.text).not.toContain('\r');

    const c = stream(false);
    const w = progress('rollout r', { stream: c });
    w.update(0, 2, 'wave 1/2');
    w.update(0, 2, 'wave 1/2');
    w.update(1, 2, 'wave 2/2');
    expect(c.text).toBe('rollout r wave 1/2: 0/2 0%\nrollout r wave 2/2: 1/2 50%\n');

    const small = stream(false);
    const q = progress('pulling y', { unit: 'bytes', stream: small, quietBelow: 1024 });
    q.update(512, 1000);
    q.finish('done');
    expect(small.text).toBe('');
  });
});
