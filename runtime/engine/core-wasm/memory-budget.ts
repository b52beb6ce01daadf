import { BerthError } from '../../../common/errors.js';
import { definedMemories, WASM_PAGE } from './memory-limit.js';

/**
 * One memory budget for a whole app: the linear memories of all its core modules together may
 * not pass its memory limit. Linear memory lives outside the JavaScript heap, so no worker limit
 * sees it; a component with many core modules, each capped on its own, could otherwise add up to
 * many times the limit and bring the kernel's OOM killer onto the whole device runtime
 * (docs/hostile.md, "Heap").
 *
 * Every memory keeps its initial size; the rest of the budget is shared out as room to grow,
 * fairly (max-min): a memory that declares a maximum never gets more than it declared, and
 * what it leaves goes to the others. So a component whose memories fit keeps every declared
 * maximum, memories without one share what is left evenly, and a lone memory gets it all.
 */
export interface MemoryCap {
  /** All memories of an app instance together, in 64 KiB pages. */
  budget: number;
  /** Per core module (by the name the glue asks for), the maximum of each memory it defines, in order. */
  maxima: Record<string, number[]>;
}

interface Demand {
  module: string;
  index: number;
  initial: number;
  /** Pages it may grow by at most: its declared maximum less its initial size, or the budget. */
  room: number;
}

const mib = (pages: number | bigint): string => `${(Number(pages) * WASM_PAGE) / 2 ** 20} MiB`;

/** The maxima for every memory of a component's core modules within `budget` pages; refused when their initial sizes alone are over it. */
export function planMemoryCap(modules: Record<string, Uint8Array>, budget: number): MemoryCap {
  const demands: Demand[] = [];
  let initialTotal = 0n;
  for (const [module, bytes] of Object.entries(modules)) {
    definedMemories(bytes).forEach(({ initial, max }, index) => {
      initialTotal += initial;
      const room = max === undefined || max - initial > BigInt(budget) ? budget : Math.max(0, Number(max - initial));
      demands.push({ module, index, initial: Number(initial), room });
    });
  }
  if (initialTotal > BigInt(budget)) {
    throw new BerthError(
      'memory-limit',
      `the component's ${demands.length} memories need ${initialTotal} pages (${mib(initialTotal)}) at start in all, over its memory limit of ${budget} pages (${mib(budget)})`,
    );
  }
  const maxima: Record<string, number[]> = Object.fromEntries(Object.keys(modules).map((name) => [name, []]));
  let left = budget - Number(initialTotal);
  // Smallest room first: each takes at most an even share of what is left, so the rest is fair.
  const byRoom = [...demands].sort((a, b) => a.room - b.room);
  byRoom.forEach((d, i) => {
    const grant = Math.min(d.room, Math.floor(left / (byRoom.length - i)));
    left -= grant;
    maxima[d.module]![d.index] = d.initial + grant;
  });
  return { budget, maxima };
}

/** The error of core instances whose memories could reach more than the app's limit together. */
export function overMemoryBudget(pages: number, budget: number): BerthError {
  return new BerthError(
    'memory-limit',
    `the component's core instances could grow their memories to ${pages} pages (${mib(pages)}) in all, over its memory limit of ${budget} pages (${mib(budget)})`,
  );
}

/** Pages the memories a module defines can reach together, once capped (what one instance of it may cost). */
export function memoryPagesOf(cap: MemoryCap, module: string): number {
  return (cap.maxima[module] ?? []).reduce((sum, pages) => sum + pages, 0);
}
