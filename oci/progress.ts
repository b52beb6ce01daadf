import type { Progress } from './client.js';

/**
 * A one-line progress display for long pushes and pulls, on a terminal only: redirected
 * output and CI logs get nothing, not a stream of carriage returns.
 */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr): { update: Progress; done(): void } | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      shown = true;
      const pct = total ? ` ${Math.floor((done / total) * 100)}%` : '';
      stream.write(`\r${label}: ${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}${pct}\x1b[K`);
    },
    done() {
      if (shown) stream.write('\n');
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
