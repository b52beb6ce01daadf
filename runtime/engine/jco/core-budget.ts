import { BerthError } from '../../../common/errors.js';
import { overMemoryBudget } from '../core-wasm/memory-budget.js';

/**
 * What the core instances of one app instance may add up to, checked as the glue instantiates
 * them. A component may instantiate a core module any number of times, and each instance has
 * tables of its own (kept on the thread's JavaScript heap, table-limit.ts) and memories of its
 * own (linear memory, off the JavaScript heap but not off the device's): the caps written into
 * each module bound one instance, this bounds their number and sum.
 */
export interface CoreBudgetLimits {
  /** Entries each core module's own tables can reach (JcoArtifact.tableEntries). */
  tableEntries: Record<string, number>;
  /** All tables of the app instance together (TableCap.budget). */
  tableBudget: number;
  /** Pages each core module's own memories can reach together, once capped (memory-budget.ts). */
  memoryPages: Record<string, number>;
  /** All memories of the app instance together, in pages (MemoryCap.budget). */
  memoryBudget: number;
}

/** Core instances per app instance: jco's glue makes 3–4 for the components seen; composed ones a few more. */
export const MAX_CORE_INSTANCES = 100;

export class CoreBudget {
  private readonly names = new Map<WebAssembly.Module, string>();
  private instances = 0;
  private entries = 0;
  private pages = 0;

  constructor(
    modules: Record<string, WebAssembly.Module>,
    private readonly limits: CoreBudgetLimits,
  ) {
    for (const [name, module] of Object.entries(modules)) this.names.set(module, name);
  }

  /** Counts one more instance of `module`; throws, before it is made, when it would go over. */
  admit(module: WebAssembly.Module): void {
    if (++this.instances > MAX_CORE_INSTANCES) {
      throw new BerthError('resource-limit', `the component instantiates more than ${MAX_CORE_INSTANCES} core instances`);
    }
    const name = this.names.get(module);
    this.entries += name === undefined ? 0 : (this.limits.tableEntries[name] ?? 0);
    if (this.entries > this.limits.tableBudget) {
      throw new BerthError(
        'table-limit',
        `the component's core instances could grow their tables to ${this.entries} entries in all, over the limit of ${this.limits.tableBudget} entries`,
      );
    }
    // A module instantiated again brings memories of its own, each able to reach its cap.
    this.pages += name === undefined ? 0 : (this.limits.memoryPages[name] ?? 0);
    if (this.pages > this.limits.memoryBudget) {
      throw overMemoryBudget(this.pages, this.limits.memoryBudget);
    }
  }
}
