/**
 * A host function that blocks its thread (a timer's poll, a call to the controlling thread)
 * waits in slices and asks between them whether the guest's call must end. On Wasmtime the
 * engine answers, with the same deadline and stop flags its epoch callback uses: a thread blocked
 * in a host function never reaches an epoch check, and a thread inside a Wasmtime call must never
 * be terminated from outside (docs/engine.md). On jco nobody asks; the controller ends the thread.
 */

/** How long one slice of a blocking wait lasts while someone may ask the call to end. */
export const WAIT_SLICE_MS = 10;

let check: (() => void) | undefined;

/** Installed by the engine for the duration of one guest call in this thread (undefined: none). */
export function setWaitCheck(next: (() => void) | undefined): void {
  check = next;
}

/** The longest a blocking wait may sleep before it asks again (`wanted` when nobody asks). */
export function waitSlice(wantedMs: number): number {
  return check ? Math.min(wantedMs, WAIT_SLICE_MS) : wantedMs;
}

/** Throws what ends the running guest call, if it must end (a deadline passed, the app stopped). */
export function checkWait(): void {
  check?.();
}
