import { BerthError } from '../../../common/errors.js';
import type { ComponentGlue } from './glue-types.js';
import { camelCase, type GuestComponent, type GuestInstance, type HostImports } from '../guest.js';
import { coreLimitsOf, type JcoArtifact } from './artifact.js';
import { CoreBudget } from './core-budget.js';

/**
 * A jco artifact loaded in a sandbox thread: its glue (imported once per thread) and its
 * compiled core modules. Each instantiation runs the glue against the instance's host objects.
 */
export class JcoGuestComponent implements GuestComponent {
  constructor(
    private readonly glue: ComponentGlue,
    private readonly artifact: JcoArtifact,
  ) {}

  /** V8 cannot stop a guest inside its thread: no option is used (the controller ends the thread). */
  instantiate(imports: HostImports): GuestInstance {
    const { modules } = this.artifact;
    const budget = new CoreBudget(modules, coreLimitsOf(this.artifact));
    const memories = new Set<WebAssembly.Memory>();
    const exportsObject = this.glue.instantiate(
      (name) => {
        const module = modules[name];
        if (!module) throw new BerthError('malformed-component', `the glue asked for an unknown core module ${name}`);
        return module;
      },
      imports,
      (module, importObject) => {
        budget.admit(module);
        const instance = new WebAssembly.Instance(module, importObject);
        for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.add(value);
        return instance;
      },
    );
    return new JcoGuestInstance(exportsObject, [...memories]);
  }
}

/**
 * One instance as jco's glue made it: an object of exported functions. V8 cannot interrupt a
 * guest inside its thread, so the deadline is kept by the thread's controller (sandbox-thread.ts).
 */
class JcoGuestInstance implements GuestInstance {
  constructor(
    private readonly exportsObject: Record<string, unknown>,
    private readonly memories: WebAssembly.Memory[],
  ) {}

  /**
   * Pages of the component's linear memories together (each counted once, however many modules
   * import it). A memory no core instance exports is not seen.
   */
  memoryPages(): number {
    return this.memories.reduce((pages, memory) => pages + memory.buffer.byteLength / 65536, 0);
  }

  exportNames(): string[] {
    const names: string[] = [];
    for (const [key, value] of Object.entries(this.exportsObject)) {
      if (typeof value === 'function') names.push(key);
      else if (value && typeof value === 'object' && key.includes(':')) {
        for (const [fn, f] of Object.entries(value)) if (typeof f === 'function') names.push(`${key}#${fn}`);
      }
    }
    return names;
  }

  resolve(fn: string): ((...args: unknown[]) => unknown) | undefined {
    const top = this.exportsObject[camelCase(fn)];
    if (typeof top === 'function') return top as (...args: unknown[]) => unknown;
    if (fn === 'run') return this.resolve('berth:host/entry#run') ?? this.resolve('wasi:cli/run#run');
    const hash = fn.indexOf('#');
    if (hash === -1) return undefined;
    const iface = fn.slice(0, hash);
    const name = camelCase(fn.slice(hash + 1));
    for (const [key, value] of Object.entries(this.exportsObject)) {
      if (!key.includes(':')) continue;
      if (key !== iface && key.split('@')[0] !== iface) continue;
      const f = (value as Record<string, unknown>)[name];
      if (typeof f === 'function') return f.bind(value) as (...args: unknown[]) => unknown;
    }
    return undefined;
  }

  setDeadline(): void {}

  close(): void {}
}
