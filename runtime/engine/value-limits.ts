/**
 * How much of a guest's values the host lifts into JavaScript, on either engine. Lifting happens
 * on the sandbox thread's heap; past its limit V8 ends the thread, and a thread ended inside a
 * Wasmtime call takes the process with it (docs/engine.md). So what one call may lift is capped
 * before it is built, and passing the cap is a trap of the app that asked.
 */

/** Live handles of one resource type in one instance. */
export const MAX_HANDLES = 65_536;

/**
 * Elements of one list lifted from guest memory into JavaScript values (lists of strings,
 * records, tuples, variants; lists of numbers become typed arrays and are not counted). jco
 * lifts them by pushing onto an array, whose growth copies it whole: on Node 24 a list of 8
 * million strings in a 64 MiB worker aborted the process.
 */
export const MAX_LIST_ELEMENTS = 1_048_576;

/** The trap message of a list past MAX_LIST_ELEMENTS, the same on both engines. */
export function listTooLong(length: number | string): string {
  return `a list of ${length} elements is over the limit of ${MAX_LIST_ELEMENTS}`;
}

/** The trap message of a handle past MAX_HANDLES. */
export const TOO_MANY_HANDLES = `too many resource handles: an instance may hold at most ${MAX_HANDLES} of one type`;

/**
 * The share of a thread's heap one value lifted from a guest may take (estimated as V8 lays it
 * out): a quarter, so a value, its copy for the message to the supervisor and the thread's own
 * needs still fit.
 */
export const LIFT_HEAP_SHARE = 0.25;

export function liftTooLarge(estimateBytes: number, budgetBytes: number): string {
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  return `a value lifted from the guest needs more than ${mib(budgetBytes)} MiB of the sandbox thread's heap (${mib(estimateBytes)} MiB so far), over the share one call may take`;
}
