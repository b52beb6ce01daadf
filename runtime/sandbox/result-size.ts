/**
 * What an app may hand the host as one call's result: it is copied to the controlling thread,
 * whose heap is the whole device runtime's. Lifted from guest memory, a result can be as large as
 * the app's linear memory (a list of millions of small strings, each a heap object there), so
 * the sandbox thread measures it before sending and refuses what is over (docs/hostile.md,
 * "Heap"). The HTTP gateway's answer is exempt: the host builds it, within the grant's
 * `maxResponseBytes`.
 */
export const MAX_RESULT_BYTES = 16 * 2 ** 20;

/** Rough heap cost of a value as the receiving thread would hold it; stops counting once over `limit`. */
export function exceedsBytes(value: unknown, limit: number = MAX_RESULT_BYTES): boolean {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    total += 8;
    if (typeof v === 'string') total += 2 * v.length;
    else if (typeof v === 'bigint') total += 16;
    else if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) total += v.byteLength;
    else if (Array.isArray(v)) {
      total += 8 * v.length;
      if (total > limit) return true;
      for (const item of v) pending.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        total += 16 + 2 * key.length;
        pending.push(item);
      }
    }
    if (total > limit) return true;
  }
  return false;
}
