/**
 * The sandbox thread's side of the engine seam: a loaded artifact instantiates into a guest
 * instance, given the host objects of one app instance. Host objects are written once, in the
 * component model's JavaScript convention (docs/engine.md), whichever engine runs them.
 */

/** Host objects by unversioned interface name (`wasi:io/streams`), as host-apis/linker.ts builds them. */
export type HostImports = Record<string, unknown>;

export interface GuestInstance {
  /** Exported functions by the names `resolve` accepts (`add`, `berth:host/entry@0.1.0#run`). */
  exportNames(): string[];
  /**
   * A callable for `fn`: a top-level export (`add`), `interface#function` (version optional), or
   * `run`, the app's entry point. It returns the export's value; for a `result` it returns the
   * ok value and throws an error with a `payload` for the guest's err; it throws
   * `InterruptedError` when the engine stopped the guest, and anything else for a trap.
   */
  resolve(fn: string): ((...args: unknown[]) => unknown) | undefined;
  /** Pages of the instance's linear memories together, as far as the engine can see them. */
  memoryPages(): number;
  /** The CPU deadline of each later call, for engines that interrupt a guest themselves. */
  setDeadline(ms: number): void;
  close(): void;
}

export interface InstantiateOptions {
  /** Set (nonzero) from another thread: stops the instance's running call, if the engine can. */
  stop?: Int32Array;
  /** How long its start (start functions of its core modules) may run, for an engine that can stop it. */
  deadlineMs?: number;
}

export interface GuestComponent {
  instantiate(imports: HostImports, options?: InstantiateOptions): GuestInstance;
}

/** The engine stopped the guest mid-call: past its deadline, or because it was stopped. */
export class InterruptedError extends Error {
  constructor(
    readonly reason: 'deadline' | 'stopped',
    message: string,
  ) {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** jco's names: `read-via-stream` is `readViaStream`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
