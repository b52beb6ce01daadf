/**
 * How a host function reports the `err` side of a WIT `result` to jco's generated glue.
 *
 * jco's glue (`getErrorPayload`) takes the payload from an own `payload` property; any other
 * `Error` it rethrows, which traps the guest. So an expected failure (a WASI error code, a
 * stream error) is thrown as a `WasiResultError`, and a plain `Error` means "trap".
 */
export class WasiResultError<T> extends Error {
  readonly payload: T;

  constructor(payload: T) {
    super(typeof payload === 'string' ? payload : JSON.stringify(payload, bigintSafe));
    this.name = 'WasiResultError';
    this.payload = payload;
  }
}

export function fail<T>(payload: T): never {
  throw new WasiResultError(payload);
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** A guest-supplied u64 as a JS number, clamped to `max` (hosts may always do less than asked). */
export function clampU64(value: bigint, max: number): number {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new TypeError(`expected a u64, got ${String(value)}`);
  }
  return value > BigInt(max) ? max : Number(value);
}
