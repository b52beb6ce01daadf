/**
 * Progress of long operations (push, pull; several bars at once: progress-lines.ts). On a terminal, one line redrawn in
 * place with a bar; elsewhere (a pipe, a CI log) plain lines, one per real step, never carriage
 * returns.
 */
export interface Progress {
  /** `done` of `total` (total unknown: no bar); `note` says what the numbers are about. */
  update(done: number, total: number | undefined, note?: string): void;
  /** Ends the line on a terminal (and says `note` last, if given). */
  finish(note?: string): void;
}

export interface ProgressOptions {
  /** Bytes print as KiB/MiB; counts as they are. */
  unit?: 'bytes' | 'count';
  /** Where it is drawn: stderr for push and pull (stdout is their result), stdout for watch. */
  stream?: NodeJS.WriteStream;
  /** Nothing at all for a total under this: a transfer that small is over before a bar says anything. */
  quietBelow?: number;
}

const BAR_WIDTH = 24;
/** Push and pull show progress from a mebibyte up. */
export const QUIET_BELOW_BYTES = 1024 * 1024;
/** Redraws at most this often on a terminal: a fast pull would otherwise write thousands of lines. */
const REDRAW_MS = 100;

export function progress(label: string, options: ProgressOptions = {}): Progress {
  const drawn = drawing(label, options);
  const quiet = options.quietBelow ?? 0;
  let silent = false;
  return {
    update(done, total, note) {
      silent ||= total !== undefined && total < quiet;
      if (!silent) drawn.update(done, total, note);
    },
    finish(note) {
      if (!silent) drawn.finish(note);
    },
  };
}

function drawing(label: string, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const amount = options.unit === 'bytes' ? formatBytes : String;
  const text = (done: number, total: number | undefined, note?: string): string => {
    const of = total === undefined ? amount(done) : `${amount(done)}/${amount(total)}`;
    return `${label}${note ? ` ${note}` : ''}: ${of}${total ? ` ${Math.floor((done / total) * 100)}%` : ''}`;
  };
  if (stream.isTTY) {
    let last = 0;
    let shown = false;
    return {
      update(done, total, note) {
        const now = Date.now();
        if (now - last < REDRAW_MS && done !== total) return;
        last = now;
        shown = true;
        stream.write(`\r${total ? `${bar(done, total)} ` : ''}${text(done, total, note)}\x1b[K`);
      },
      finish(note) {
        if (shown) stream.write(note ? `\r${note}\x1b[K\n` : '\n');
        else if (note) stream.write(note + '\n');
      },
    };
  }
  // Plain lines: bytes every tenth of the way (and the end), counts whenever anything changes.
  let said = '';
  return {
    update(done, total, note) {
      const step = options.unit === 'bytes' ? `${total ? Math.floor((done / total) * 10) : Math.floor(done / (10 * 1024 * 1024))}` : `${done}/${total}/${note}`;
      if (step === said) return;
      said = step;
      stream.write(text(done, total, note) + '\n');
    },
    finish(note) {
      if (note) stream.write(note + '\n');
    },
  };
}

/** `[#########---------------]`: how far along, in BAR_WIDTH cells. */
export function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
