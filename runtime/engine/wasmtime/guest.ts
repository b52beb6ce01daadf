import { BerthError } from '../../../common/errors.js';
import { InterruptedError, type GuestComponent, type GuestInstance, type HostImports, type InstantiateOptions } from '../guest.js';
import { MAX_CORE_INSTANCES } from '../jco/core-budget.js';
import { TABLE_ENTRIES_PER_APP } from '../jco/table-limit.js';
import type { WasmtimeArtifact } from './artifact.js';
import type { LoadedComponent } from './component.js';
import { GuestTrap, type WasmtimeInstance } from './instance.js';
import { callEnded, callStarted } from './process-engine.js';
import type { StoreLimits } from './store.js';

/** A start with no deadline of its own (a test's, a tool's): the sandbox always gives one. */
const DEFAULT_START_DEADLINE_MS = 15_000;

/** Memories and tables of one instance: as many as the jco engine lets its core instances have. */
const MAX_TABLES = 64;

export class WasmtimeGuestComponent implements GuestComponent {
  private readonly limits: StoreLimits;
  private readonly epochActive: Int32Array;

  constructor(
    private readonly loaded: LoadedComponent,
    artifact: WasmtimeArtifact,
    epochActive: SharedArrayBuffer,
    private readonly halt: Int32Array,
  ) {
    this.limits = {
      memoryBytes: artifact.memoryBytes,
      tableElements: TABLE_ENTRIES_PER_APP,
      instances: MAX_CORE_INSTANCES,
      tables: MAX_TABLES,
      memories: artifact.memories,
    };
    this.epochActive = new Int32Array(epochActive);
  }

  /** The start runs under the epoch like a call: past its deadline, or when stopped, it is interrupted. */
  instantiate(imports: HostImports, options: InstantiateOptions = {}): GuestInstance {
    const stopFlags = options.stop ? [this.halt, options.stop] : [this.halt];
    callStarted(this.epochActive);
    try {
      const instance = this.loaded.instantiate(
        imports as Record<string, Record<string, unknown>>,
        this.limits,
        stopFlags,
        options.deadlineMs ?? DEFAULT_START_DEADLINE_MS,
      );
      return new WasmtimeGuestInstance(instance, this.epochActive);
    } catch (err) {
      if (err instanceof GuestTrap && err.interrupt)
        throw new BerthError(err.interrupt.reason === 'deadline' ? 'instantiation-deadline' : 'stopped', `instantiation ${err.interrupt.message}`);
      throw err;
    } finally {
      callEnded(this.epochActive);
    }
  }
}

/**
 * One instance in its own store. Wasmtime interrupts a guest past its deadline at the next
 * epoch tick, inside this thread: the instance is then unusable, and its neighbours go on.
 */
class WasmtimeGuestInstance implements GuestInstance {
  private deadlineMs = 5_000;

  constructor(
    private readonly instance: WasmtimeInstance,
    private readonly epochActive: Int32Array,
  ) {}

  exportNames(): string[] {
    return this.instance.exportNames();
  }

  resolve(fn: string): ((...args: unknown[]) => unknown) | undefined {
    const target = this.instance.resolve(fn);
    if (!target) return undefined;
    return (...args: unknown[]) => {
      callStarted(this.epochActive);
      try {
        return this.instance.call(target, args, this.deadlineMs);
      } catch (err) {
        if (err instanceof GuestTrap && err.interrupt) throw new InterruptedError(err.interrupt.reason, err.interrupt.message);
        throw err;
      } finally {
        callEnded(this.epochActive);
      }
    };
  }

  /** Not visible through Wasmtime's C API for a component's memories (docs/engine.md). */
  memoryPages(): number {
    return 0;
  }

  setDeadline(ms: number): void {
    this.deadlineMs = ms;
  }

  close(): void {
    this.instance.close();
  }
}
