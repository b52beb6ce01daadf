import { errorMessage } from '../../common/errors.js';
import { linkHostApis, type HostContext, type InstanceServices } from '../../host-apis/linker.js';
import { WasiExit } from '../../host-apis/wasi/cli.js';
import { InterruptedError, type GuestComponent, type GuestInstance, type InstantiateOptions } from '../engine/guest.js';
import type { InvokeFailure } from './protocol.js';
import { GATEWAY_EXPORT, gatewayAdapter } from '../../host-apis/wasi/http-gateway-adapter.js';

/**
 * One instantiated app: its guest instance, on whichever engine, and the host services built
 * for it from its grants. Used inside a sandbox thread, one (worker tier) or several (instance
 * tier) per thread.
 */
export class AppInstance {
  private constructor(
    private readonly guest: GuestInstance,
    readonly services: InstanceServices,
  ) {}

  static create(component: GuestComponent, componentImports: string[], context: HostContext, options?: InstantiateOptions): AppInstance {
    const { imports, services } = linkHostApis(componentImports, context);
    return new AppInstance(component.instantiate(imports, options), services);
  }

  /** Pages of the component's linear memories together, for accounting and limit tests. */
  memoryPages(): number {
    return this.guest.memoryPages();
  }

  exportNames(): string[] {
    return this.guest.exportNames();
  }

  /** `add`, `interface#function` (version optional), `run` (the entry point), or the HTTP gateway's entry. */
  resolve(fn: string): ((...args: unknown[]) => unknown) | undefined {
    // The HTTP gateway's entry (docs/http.md): host-built resources around the app's incoming handler.
    if (fn === GATEWAY_EXPORT) return gatewayAdapter((name) => this.guest.resolve(name)) as ((...args: unknown[]) => unknown) | undefined;
    return this.guest.resolve(fn);
  }

  invoke(fn: string, args: unknown[], deadlineMs?: number): { ok: true; value: unknown } | { ok: false; failure: InvokeFailure } {
    const f = this.resolve(fn);
    if (!f)
      return { ok: false, failure: { kind: 'no-such-export', message: `no exported function ${fn}; exports: ${this.exportNames().join(', ') || 'none'}` } };
    if (deadlineMs !== undefined) this.guest.setDeadline(deadlineMs);
    try {
      return { ok: true, value: f(...args) };
    } catch (err) {
      const failure = classify(err);
      // A command that calls exit(0) has finished successfully.
      if (failure.kind === 'exit' && failure.code === 0) return { ok: true, value: undefined };
      return { ok: false, failure };
    }
  }

  close(): void {
    this.guest.close();
  }
}

/** Tells the guest's own error result from a trap, an exit, or an interrupt by the engine. */
export function classify(err: unknown): InvokeFailure {
  if (err && typeof err === 'object') {
    if (err instanceof WasiExit) return { kind: 'exit', code: err.code, message: `the app exited with code ${err.code}` };
    if (err instanceof InterruptedError) return { kind: 'sandbox-stopped', reason: err.reason, message: err.message };
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
