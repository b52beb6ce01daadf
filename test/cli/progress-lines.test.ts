import { describe, expect, it } from 'vitest';
import { progressLines } from '../../cli/progress-lines.js';

/** A stream that records what is written, a terminal or not. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: '', write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const wave = (n: number, done: number, phase: string) => ({ key: String(n), done, total: 2, text: `wave ${n}/2: ${done}/2 adopted, ${phase}` });

describe('progressLines', () => {
  it('redraws the block of bars in place on a terminal', () => {
    const tty = stream(true);
    const shown = progressLines(tty);
    shown.update([wave(1, 0, 'installing'), wave(2, 0, 'waiting')]);
    shown.update([wave(1, 2, 'done'), wave(2, 1, 'installing')]);
    shown.finish('done');
    expect(tty.text).toBe(
      '\r[------------------------] wave 1/2: 0/2 adopted, installing\x1b[K\n\r[------------------------] wave 2/2: 0/2 adopted, waiting\x1b[K\n' +
        '\x1b[2A\r[########################] wave 1/2: 2/2 adopted, done\x1b[K\n\r[############------------] wave 2/2: 1/2 adopted, installing\x1b[K\n' +
        'done\n',
    );
  });

  it('writes a plain line per bar that changed elsewhere', () => {
    const pipe = stream(false);
    const shown = progressLines(pipe);
    shown.update([wave(1, 0, 'installing'), wave(2, 0, 'waiting')]);
    shown.update([wave(1, 2, 'done'), wave(2, 0, 'waiting')]);
    shown.finish('done');
    expect(pipe.text).toBe('wave 1/2: 0/2 adopted, installing\nwave 2/2: 0/2 adopted, waiting\nwave 1/2: 2/2 adopted, done\ndone\n');
  });
});
