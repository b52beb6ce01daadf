import { BerthError, errorMessage } from '../../common/errors.js';
import { linkHostApis, type HostContext, type InstanceServices } from '../../host-apis/linker.js';
import type { ComponentGlue } from '../engine/engine.js';
import { WasiExit } from '../../host-apis/wasi/cli.js';
import type { InvokeFailure } from './protocol.js';
import { CoreBudget, type CoreBudgetLimits } from '../engine/jco/core-budget.js';
import { GATEWAY_EXPORT, gatewayAdapter } from '../../host-apis/wasi/http-gateway-adapter.js';

/**
 * One instantiated app: its exports and the host services built for it. Used inside a worker
 * (worker tier) and, later, several per thread (instance tier).
 */
export class AppInstance {
  private constructor(
    private readonly exportsObject: Record<string, unknown>,
    readonly services: InstanceServices,
  ) {}

  /** `limits` bound what its core instances add up to (core-budget.ts); sandbox threads always pass them. */
  static create(glue: ComponentGlue, modules: Record<string, WebAssembly.Module>, componentImports: string[], context: HostContext, limits?: CoreBudgetLimits): AppInstance {
    const { imports, services } = linkHostApis(componentImports, context);
    const budget = limits && new CoreBudget(modules, limits);
    const memories = new Set<WebAssembly.Memory>();
    const exportsObject = glue.instantiate(
      (name) => {
        const module = modules[name];
        if (!module) throw new BerthError('malformed-component', `the glue asked for an unknown core module ${name}`);
        return module;
      },
      imports,
      (module, importObject) => {
        budget?.admit(module);
        const instance = new WebAssembly.Instance(module, importObject);
        for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.add(value);
        return instance;
      },
    );
    const instance = new AppInstance(exportsObject, services);
    instance.memories = [...memories];
    return instance;
  }

  private memories: WebAssembly.Memory[] = [];

  /**
   * Pages of the component's linear memories together (each counted once, however many modules
   * import it), for accounting and limit tests. A memory no core instance exports is not seen.
   */
  memoryPages(): number {
    return this.memories.reduce((pages, memory) => pages + memory.buffer.byteLength / 65536, 0);
  }

  /** Exported functions by the names `invoke` accepts. */
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

  /**
   * Resolves `fn`: a top-level export (`add`), `interface#function`
   * (`berth:host/entry@0.1.0#run`), or `run`, which means the app's entry point
   * (`berth:host/entry` or `wasi:cli/run`).
   */
  resolve(fn: string): ((...args: unknown[]) => unknown) | undefined {
    // The HTTP gateway's entry (docs/http.md): host-built resources around the app's incoming handler.
    if (fn === GATEWAY_EXPORT) return gatewayAdapter((name) => this.resolve(name)) as ((...args: unknown[]) => unknown) | undefined;
    const top = this.exportsObject[camel(fn)];
    if (typeof top === 'function') return top as (...args: unknown[]) => unknown;
    if (fn === 'run') return this.resolve('berth:host/entry#run') ?? this.resolve('wasi:cli/run#run');
    const hash = fn.indexOf('#');
    if (hash === -1) return undefined;
    const iface = fn.slice(0, hash);
    const name = camel(fn.slice(hash + 1));
    for (const [key, value] of Object.entries(this.exportsObject)) {
      if (!key.includes(':')) continue;
      if (key !== iface && key.split('@')[0] !== iface) continue;
      const f = (value as Record<string, unknown>)[name];
      if (typeof f === 'function') return f.bind(value) as (...args: unknown[]) => unknown;
    }
    return undefined;
  }

  invoke(fn: string, args: unknown[]): { ok: true; value: unknown } | { ok: false; failure: InvokeFailure } {
    const f = this.resolve(fn);
    if (!f) return { ok: false, failure: { kind: 'no-such-export', message: `no exported function ${fn}; exports: ${this.exportNames().join(', ') || 'none'}` } };
    try {
      return { ok: true, value: f(...args) };
    } catch (err) {
      const failure = classify(err);
      // A command that calls exit(0) has finished successfully.
      if (failure.kind === 'exit' && failure.code === 0) return { ok: true, value: undefined };
      return { ok: false, failure };
    }
  }
}

/** Tells the guest's own error result from a trap or an exit. */
export function classify(err: unknown): InvokeFailure {
  if (err && typeof err === 'object') {
    if (err instanceof WasiExit) return { kind: 'exit', code: err.code, message: `the app exited with code ${err.code}` };
    if ('payload' in err && !(err instanceof WebAssembly.RuntimeError)) {
      const payload = (err as { payload: unknown }).payload;
      const message = payload === undefined ? 'the app returned an error' : typeof payload === 'string' ? payload : JSON.stringify(payload, bigintSafe);
      return { kind: 'app-error', payload, message };
    }
  }
  return { kind: 'trap', message: errorMessage(err) };
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
