import { BerthError } from '../../../common/errors.js';
import { memoryPagesOf, overMemoryBudget, planMemoryCap } from '../core-wasm/memory-budget.js';
import { capMemory, definedMemories } from '../core-wasm/memory-limit.js';
import { concatBytes, encodeLeb, ModuleReader, sectionsOf, type Section } from '../core-wasm/module-bytes.js';

/**
 * One memory budget for all the linear memories of an app instance on Wasmtime, as on jco
 * (core-wasm/memory-budget.ts): Wasmtime's store limiter caps each memory on its own, so the
 * maxima are written into the component's core modules before it is compiled, and what the
 * component's core instances can reach together is counted from its instantiations.
 *
 * The count follows core module indices through each component's core instance sections, and a
 * nested component's modules by how often that component is instantiated. A module index this
 * cannot follow (a module aliased from elsewhere) makes the count a lower bound: the store's
 * limit on its number of memories, set to the count, then refuses the instance that would make
 * more, so the budget holds either way.
 */
export interface ComponentMemoryPlan {
  /** The component with every core module's memories capped. */
  bytes: Uint8Array;
  /** Memories the app instance's core instances define in all (the store's memory count limit). */
  memories: number;
}

const COMPONENT_PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const S = { coreModule: 1, coreInstance: 2, component: 4, instance: 5, alias: 6 } as const;

interface Level {
  /** Keys of the core module index space, in order; undefined for a module aliased in. */
  modules: (string | undefined)[];
  /** Component index space: nested levels, undefined for an imported or aliased component. */
  components: (Level | undefined)[];
  instantiations: Map<string, number>;
  componentInstantiations: Map<Level, number>;
}

function bad(reason: string): BerthError {
  return new BerthError('malformed-component', `cannot apply the memory limit: ${reason}`);
}

export function planComponentMemory(component: Uint8Array, budgetPages: number): ComponentMemoryPlan {
  const modules = new Map<string, Uint8Array>();
  const top = readLevel(component, modules);
  const cap = planMemoryCap(Object.fromEntries(modules), budgetPages);
  const instances = new Map<string, number>();
  countInstances(top, 1, instances);
  let pages = 0;
  let memories = 0;
  for (const [key, count] of instances) {
    pages += count * memoryPagesOf(cap, key);
    memories += count * definedMemories(modules.get(key)!).length;
  }
  if (pages > budgetPages) throw overMemoryBudget(pages, budgetPages);
  const bytes = rewriteLevel(component, (key, module) => capMemory(module, budgetPages, cap.maxima[key]));
  return { bytes, memories };
}

function countInstances(level: Level, times: number, out: Map<string, number>): void {
  for (const [key, n] of level.instantiations) out.set(key, (out.get(key) ?? 0) + n * times);
  for (const [nested, n] of level.componentInstantiations) countInstances(nested, n * times, out);
}

function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || COMPONENT_PREAMBLE.some((b, i) => bytes[i] !== b)) throw bad('not a component');
  return sectionsOf(bytes, bad);
}

/** Modules are keyed by their order in the whole binary, nested components included (as rewriteLevel walks it). */
function readLevel(bytes: Uint8Array, modules: Map<string, Uint8Array>): Level {
  const level: Level = { modules: [], components: [], instantiations: new Map(), componentInstantiations: new Map() };
  for (const s of sections(bytes)) {
    const body = bytes.subarray(s.start, s.end);
    if (s.id === S.coreModule) {
      const key = `m${modules.size}`;
      modules.set(key, body);
      level.modules.push(key);
    } else if (s.id === S.component) {
      level.components.push(readLevel(body, modules));
    } else if (s.id === S.coreInstance) {
      readCoreInstances(body, level);
    } else if (s.id === S.instance) {
      readComponentInstances(body, level);
    } else if (s.id === S.alias) {
      readAliases(body, level);
    }
  }
  return level;
}

function readCoreInstances(body: Uint8Array, level: Level): void {
  const r = new ModuleReader(body, 0, bad);
  for (let i = Number(r.leb()); i > 0; i--) {
    const kind = r.byte();
    if (kind === 0x00) {
      const key = level.modules[Number(r.leb())];
      if (key !== undefined) level.instantiations.set(key, (level.instantiations.get(key) ?? 0) + 1);
      for (let a = Number(r.leb()); a > 0; a--) {
        r.name();
        r.byte(); // 0x12: an instance
        r.leb();
      }
    } else if (kind === 0x01) {
      for (let e = Number(r.leb()); e > 0; e--) {
        r.name();
        r.byte();
        r.leb();
      }
    } else throw bad(`unknown core instance kind ${kind}`);
  }
}

function readComponentInstances(body: Uint8Array, level: Level): void {
  const r = new ModuleReader(body, 0, bad);
  for (let i = Number(r.leb()); i > 0; i--) {
    const kind = r.byte();
    if (kind === 0x00) {
      const nested = level.components[Number(r.leb())];
      if (nested) level.componentInstantiations.set(nested, (level.componentInstantiations.get(nested) ?? 0) + 1);
      for (let a = Number(r.leb()); a > 0; a--) {
        r.name();
        skipSort(r);
        r.leb();
      }
    } else if (kind === 0x01) {
      for (let e = Number(r.leb()); e > 0; e--) {
        r.name();
        skipSort(r);
        r.leb();
      }
    } else throw bad(`unknown instance kind ${kind}`);
  }
}

/** Aliased modules and components take an index each; where they come from is not followed. */
function readAliases(body: Uint8Array, level: Level): void {
  const r = new ModuleReader(body, 0, bad);
  for (let i = Number(r.leb()); i > 0; i--) {
    const sort = r.byte();
    const coreSort = sort === 0x00 ? r.byte() : undefined;
    const target = r.byte();
    if (target === 0x00 || target === 0x01) {
      r.leb();
      r.name();
    } else if (target === 0x02) {
      r.leb();
      r.leb();
    } else throw bad(`unknown alias target ${target}`);
    if (coreSort === 0x11) level.modules.push(undefined);
    if (sort === 0x04) level.components.push(undefined);
  }
}

function skipSort(r: ModuleReader): void {
  if (r.byte() === 0x00) r.byte();
}

/** The component with each core module replaced by `rewrite`'s, nested components included. */
function rewriteLevel(bytes: Uint8Array, rewrite: (key: string, module: Uint8Array) => Uint8Array, counter = { modules: 0 }): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of sections(bytes)) {
    const body = bytes.subarray(s.start, s.end);
    let next: Uint8Array | undefined;
    if (s.id === S.coreModule) next = rewrite(`m${counter.modules++}`, body);
    else if (s.id === S.component) next = rewriteLevel(body, rewrite, counter);
    if (next) parts.push(Uint8Array.of(s.id, ...encodeLeb(BigInt(next.length))), next);
    else parts.push(bytes.subarray(s.head, s.end));
  }
  return concatBytes(parts);
}
