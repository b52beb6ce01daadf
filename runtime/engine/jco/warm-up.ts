import type { ComponentGlue } from './glue-types.js';

/**
 * Runs a component's glue once against stand-ins, in a pooled thread before any app is placed
 * on it, so that V8 has compiled the glue's functions (instantiation and the export wrappers)
 * when the real app starts there: in a fresh thread the first instance of a glue costs ~1.5 ms
 * and its first call ~1.1 ms, a warmed one ~0.6 and ~0.35 (docs/benchmarks.md, runtime).
 *
 * No guest code runs: the core "instances" are plain objects shaped after each module's exports
 * (functions that return 0, a one-page memory), never `WebAssembly.Instance`s, so neither a start
 * function nor an export of the component executes. The host imports are stand-ins that throw, and
 * jco keeps all of an instance's state inside `instantiate`, so nothing of this throw-away
 * instance reaches the app's real one. Every error is expected (stand-ins return nonsense) and
 * ignored: a glue that could not be warmed is only slower to start.
 */
export function warmUpGlue(glue: ComponentGlue, modules: Record<string, WebAssembly.Module>): void {
  let exports: Record<string, unknown>;
  try {
    exports = glue.instantiate((name) => modules[name] ?? failMissing(name), standInImports, standInCore);
  } catch {
    return;
  }
  if (settleQuietly(exports)) return;
  for (const fn of new Set(exportedFunctions(exports))) {
    try {
      settleQuietly(fn());
    } catch {
      // stand-ins make calls fail part-way; what ran is compiled all the same
    }
  }
}

/**
 * An async glue or export answers with a promise; one that rejects unobserved would end the
 * thread (Node's default for an unhandled rejection), so every such answer gets a handler.
 */
function settleQuietly(value: unknown): boolean {
  const thenable = value as { then?: unknown } | null | undefined;
  if (typeof thenable?.then !== 'function') return false;
  (value as PromiseLike<unknown>).then(undefined, () => {});
  return true;
}

function failMissing(name: string): never {
  throw new Error(`no core module ${name}`);
}

function refuse(): never {
  throw new Error('a warm-up stand-in was called');
}

const standInInterface = new Proxy({}, { get: () => refuse });
const standInImports: Record<string, unknown> = new Proxy({}, { get: () => standInInterface });

function standInCore(module: WebAssembly.Module): WebAssembly.Instance {
  const exports: Record<string, unknown> = {};
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    if (kind === 'function') exports[name] = () => 0;
    else if (kind === 'memory') exports[name] = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    // tables and globals only pass through the glue, to core modules it never instantiates here
    else exports[name] = {};
  }
  return { exports } as unknown as WebAssembly.Instance;
}

function* exportedFunctions(exports: Record<string, unknown>): Generator<() => unknown> {
  for (const value of Object.values(exports)) {
    if (typeof value === 'function') yield value as () => unknown;
    else if (value && typeof value === 'object') {
      for (const member of Object.values(value)) if (typeof member === 'function') yield member as () => unknown;
    }
  }
}
