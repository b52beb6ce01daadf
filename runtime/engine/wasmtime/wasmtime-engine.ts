import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Digest } from '../../../common/digest.js';
import { BerthError } from '../../../common/errors.js';
import { inspectComponent } from '../../component/inspect.js';
import type { CompileOptions, CompiledComponent, Engine, EngineStats } from '../engine.js';
import { WASM_PAGE } from '../core-wasm/memory-limit.js';
import { planComponentMemory } from './memory-plan.js';
import type { WasmtimeArtifact } from './artifact.js';
import { DEFAULT_ENGINE_SETTINGS, settingsKey, type EngineSettings } from './engine-config.js';
import { wasmtimeApi as wasmtimeApiOf, type Ptr } from './ffi.js';
import { alloc, bytesAt, free, ptr, takeError } from './native.js';
import { WASMTIME_VERSION } from './pin.js';
import { processEngine, type ProcessEngine } from './process-engine.js';

export type WasmtimeCompiled = CompiledComponent & { artifact: WasmtimeArtifact };

/**
 * Compiles running in this process, by engine, digest and memory limit: several agents in one
 * process (the demo's two devices, tests) that need the same component at once compile it once.
 * Only while in flight; the serialized bytes are not kept after.
 */
const inFlight = new Map<string, Promise<Uint8Array>>();

function compiledOnce(key: string, compile: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = compile().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

interface PlannedArtifact {
  path: string;
  memories: number;
}

/**
 * Wasmtime through its C API: a component is compiled once per digest, library version and
 * engine settings into a precompiled artifact on disk, which sandbox threads load by mmap.
 * Compiling runs on a thread of libuv's pool, never on the event loop (a large JavaScript
 * component takes seconds).
 */
export class WasmtimeEngine implements Engine {
  readonly kind = 'wasmtime' as const;
  readonly name: string;
  private readonly dir: string;
  private readonly shared: ProcessEngine;
  private readonly pending = new Map<string, Promise<PlannedArtifact>>();
  /** Artifacts checked to load into this process's engine (a stale or damaged file is compiled again), with their memory count. */
  private readonly checked = new Map<string, number>();
  private readonly counters: EngineStats = { transpiles: 0, compiles: 0, memoryHits: 0, diskHits: 0 };

  constructor(options: { cacheDir: string; library: string; settings?: EngineSettings }) {
    const settings = options.settings ?? DEFAULT_ENGINE_SETTINGS;
    this.name = `wasmtime@${WASMTIME_VERSION}+${settings.compiler}`;
    this.dir = join(options.cacheDir, `wasmtime-${WASMTIME_VERSION}-${settingsKey(settings)}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.shared = processEngine(options.library, settings);
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  async compile(bytes: Uint8Array, options: CompileOptions): Promise<WasmtimeCompiled> {
    const maxMemoryPages = Math.floor(options.memoryLimitBytes / WASM_PAGE);
    if (maxMemoryPages < 1) throw new BerthError('memory-limit', `a memory limit of ${options.memoryLimitBytes} bytes is below one 64 KiB page`);
    const info = inspectComponent(bytes);
    const { path, memories } = await this.artifactPath(info.digest, bytes, maxMemoryPages);
    const artifact: WasmtimeArtifact = {
      engine: 'wasmtime',
      library: this.shared.library,
      settings: this.shared.settings,
      path,
      memoryBytes: maxMemoryPages * WASM_PAGE,
      memories,
      engineAddress: this.shared.engine,
      pid: process.pid,
      epochActive: this.shared.epochActive,
    };
    return { engine: 'wasmtime', engineName: this.name, digest: info.digest, info, maxMemoryPages, artifact };
  }

  /** The memory cap is written into the component (memory-plan.ts), so an artifact is per digest and cap. */
  private artifactPath(digest: Digest, bytes: Uint8Array, maxMemoryPages: number): Promise<PlannedArtifact> {
    const path = join(this.dir, `${digest.slice('sha256:'.length)}-${maxMemoryPages}p.cwasm`);
    const known = this.checked.get(path);
    if (known !== undefined) {
      this.counters.memoryHits++;
      return Promise.resolve({ path, memories: known });
    }
    let pending = this.pending.get(path);
    if (!pending) {
      pending = this.compiledFile(path, digest, bytes, maxMemoryPages).finally(() => this.pending.delete(path));
      this.pending.set(path, pending);
    }
    return pending;
  }

  private async compiledFile(path: string, digest: Digest, bytes: Uint8Array, maxMemoryPages: number): Promise<PlannedArtifact> {
    const plan = planComponentMemory(bytes, maxMemoryPages);
    if (existsSync(path) && this.loads(path)) {
      this.counters.diskHits++;
    } else {
      const serialized = await compiledOnce(`${this.name}/${basename(path)}`, () => this.compileBytes(plan.bytes, digest));
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, serialized, { mode: 0o600 });
      renameSync(temp, path);
      this.counters.compiles++;
    }
    this.checked.set(path, plan.memories);
    return { path, memories: plan.memories };
  }

  /** Whether a file on disk loads into this engine (same library, same settings, undamaged). */
  private loads(path: string): boolean {
    const { api, engine } = this.ffi();
    const out = alloc(16);
    try {
      const error = api.wasmtime_component_deserialize_file(engine, path, out) as Ptr;
      if (error) {
        takeError(api, error, out);
        return false;
      }
      api.wasmtime_component_delete(ptr(out));
      return true;
    } finally {
      free(out);
    }
  }

  private async compileBytes(bytes: Uint8Array, digest: Digest): Promise<Uint8Array> {
    const { api, engine } = this.ffi();
    const out = alloc(16);
    try {
      const error = await new Promise<Ptr>((resolve, reject) => {
        const call = api.wasmtime_component_new as unknown as { async: (...a: unknown[]) => void };
        call.async(engine, bytes, bytes.length, out, (err: unknown, result: Ptr) => (err ? reject(err) : resolve(result)));
      });
      if (error) throw new BerthError('malformed-component', `component ${digest} was refused by Wasmtime: ${takeError(api, error, out)}`);
      const component = ptr(out);
      try {
        const serializeError = api.wasmtime_component_serialize(component, out) as Ptr;
        if (serializeError) throw new Error(`serializing ${digest}: ${takeError(api, serializeError, out)}`);
        const serialized = bytesAt(out);
        api.wasm_byte_vec_delete(out);
        return serialized;
      } finally {
        api.wasmtime_component_delete(component);
      }
    } finally {
      free(out);
    }
  }

  private ffi() {
    return { api: wasmtimeApiOf(this.shared.library), engine: this.shared.engine };
  }

  /** Forgets that a digest's file was checked, so the next start of it reads the disk again. */
  evict(digest: string): void {
    const prefix = join(this.dir, `${digest.slice('sha256:'.length)}-`);
    for (const path of this.checked.keys()) if (path.startsWith(prefix)) this.checked.delete(path);
  }

  /** Files are `<hex digest>-<memory pages>p.cwasm`: one per memory limit an app of that digest had. */
  prune(keep: ReadonlySet<Digest>): number {
    const wanted = new Set([...keep].map((d) => d.slice('sha256:'.length)));
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      if (wanted.has(name.split('-')[0]!.split('.')[0]!)) continue;
      rmSync(join(this.dir, name), { force: true });
      this.checked.delete(join(this.dir, name));
      removed++;
    }
    return removed;
  }
}
