/**
 * PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; device ids are ASCII, so a payload
 * is cut below this many characters, whole ids only.
 */
export const NOTIFY_PAYLOAD_LIMIT = 7000;

/** Device ids as newline-separated NOTIFY payloads, each under the limit, every id in one of them. */
export function notifyPayloads(deviceIds: readonly string[], limit = NOTIFY_PAYLOAD_LIMIT): string[] {
  const out: string[] = [];
  let batch = '';
  for (const id of deviceIds) {
    if (batch && batch.length + id.length + 1 > limit) {
      out.push(batch);
      batch = '';
    }
    batch += (batch ? '\n' : '') + id;
  }
  if (batch) out.push(batch);
  return out;
}
