import { bar } from './progress.js';

/**
 * Several progress bars at once (berth rollout watch: one a wave). On a terminal the block is
 * redrawn in place, the cursor moved back up over it; elsewhere (a pipe, a CI log) a plain line
 * is written for each bar whose text changed, never a carriage return or cursor movement.
 */
export interface ProgressLine {
  /** Which bar this is, from one update to the next. */
  key: string;
  done: number;
  total: number;
  text: string;
}

export interface ProgressLines {
  update(lines: readonly ProgressLine[]): void;
  /** Says `note` last, under the bars. */
  finish(note?: string): void;
}

export function progressLines(stream: NodeJS.WriteStream = process.stdout): ProgressLines {
  return stream.isTTY ? redrawn(stream) : plain(stream);
}

function redrawn(stream: NodeJS.WriteStream): ProgressLines {
  let drawn = 0;
  return {
    update(lines) {
      const up = drawn > 0 ? `\x1b[${drawn}A` : '';
      stream.write(up + lines.map((l) => `\r${bar(l.done, l.total)} ${l.text}\x1b[K\n`).join(''));
      drawn = lines.length;
    },
    finish(note) {
      if (note) stream.write(note + '\n');
    },
  };
}

function plain(stream: NodeJS.WriteStream): ProgressLines {
  const said = new Map<string, string>();
  return {
    update(lines) {
      for (const l of lines) {
        if (said.get(l.key) === l.text) continue;
        said.set(l.key, l.text);
        stream.write(l.text + '\n');
      }
    },
    finish(note) {
      if (note) stream.write(note + '\n');
    },
  };
}
