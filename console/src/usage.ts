/**
 * An app's usage report (docs/accounting.md) in a few words; unknown members are left out, never
 * guessed. The answers carry the report as the device sent it, so anything but an object shows as none.
 */
export function usageText(report: unknown): string {
  if (typeof report !== 'object' || report === null) return '—';
  const usage = report as Record<string, unknown>;
  const parts: string[] = [];
  const memory = usage.memory as { bytes?: number; peakPages?: number } | undefined;
  const cpu = usage.cpu as { busyMs?: number } | undefined;
  const bytes = usage.bytes as { in?: number; out?: number } | undefined;
  if (typeof memory?.bytes === 'number') parts.push(`memory ${formatBytes(memory.bytes)}`);
  if (typeof cpu?.busyMs === 'number') parts.push(`busy ${Math.round(cpu.busyMs)} ms`);
  if (typeof bytes?.in === 'number' && typeof bytes.out === 'number') parts.push(`${formatBytes(bytes.in)} in, ${formatBytes(bytes.out)} out`);
  if (typeof usage.restarts === 'number') parts.push(`${usage.restarts} restart${usage.restarts === 1 ? '' : 's'}`);
  if (typeof usage.engine === 'string') parts.push(usage.engine);
  return parts.join(' · ') || '—';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
