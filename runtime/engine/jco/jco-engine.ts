import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256Digest, type Digest } from '../../../common/digest.js';
import { BerthError, errorMessage } from '../../../common/errors.js';
import { importOptional, JCO, resolveOptional } from '../../../common/optional-package.js';
import { inspectComponent, MAX_COMPONENT_BYTES, type ComponentInfo } from '../../component/inspect.js';
import { WASM_PAGE } from '../core-wasm/memory-limit.js';
import { compileCoreFile, memoryCapOf, tableCapOf } from './core-module.js';
import { loadGlueScript } from './glue-loader.js';
import { GLUE_PATCH, patchGlue } from './glue-patch.js';
import { warmUpGlue } from './warm-up.js';
import { TranspileCache, type TranspiledComponent } from './transpile-cache.js';
import type { CompileOptions, CompiledComponent, Engine, EngineStats } from '../engine.js';
import type { JcoArtifact } from './artifact.js';

/** What this engine's compile returns: its artifact is visible to tests and benchmarks of it. */
export type JcoCompiled = CompiledComponent & { artifact: JcoArtifact };

const GLUE_NAME = 'component';

/**
 * The largest instantiation glue Berth accepts from jco. Its size is not bounded by the
 * component's: jco writes the lifting and lowering code of a type out in full at every use, so
 * a type nested in itself doubles the glue at every level (a 1.6 KB component of tuples nested
 * 14 deep gives 4.7 MB of glue per function that takes it). The glue is decoded and patched on
 * the controlling thread and parsed on every sandbox thread of the app; the largest seen from a
 * real component (a JavaScript one serving wasi:http) is about 0.8 MB.
 */
export const MAX_GLUE_BYTES = 8 * 2 ** 20;

/**
 * jco's tools are Wasm components themselves and are not re-entrant: a second call started
 * while one is pending traps. Every transpile in this process goes through this one queue.
 */
let toolQueue: Promise<unknown> = Promise.resolve();
export function withJcoTools<T>(work: () => Promise<T>): Promise<T> {
  const result = toolQueue.then(work, work);
  toolQueue = result.catch(() => undefined);
  return result;
}

/** jco's version; a BerthError naming the missing package where a device install left jco out. */
function jcoVersion(): string {
  const api = resolveOptional(JCO, import.meta.url);
  const pkg = JSON.parse(readFileSync(join(dirname(api), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * V8 through jco: the component is transpiled once per digest into core modules plus an
 * instantiation glue module (cached on disk), and the core modules are compiled once per digest
 * and memory limit (cached in memory; V8 offers Node no way to keep machine code on disk).
 */
export class JcoEngine implements Engine {
  readonly kind = 'jco' as const;
  readonly name: string;
  private readonly cache: TranspileCache;
  private readonly compiled = new Map<string, Promise<JcoCompiled>>();
  private readonly counters: EngineStats = { transpiles: 0, compiles: 0, memoryHits: 0, diskHits: 0 };

  constructor(options: { cacheDir: string }) {
    const version = jcoVersion();
    this.name = `v8+jco@${version}`;
    this.cache = new TranspileCache(options.cacheDir, `${this.name}+${GLUE_PATCH}`);
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  async compile(bytes: Uint8Array, options: CompileOptions): Promise<JcoCompiled> {
    const maxMemoryPages = Math.floor(options.memoryLimitBytes / WASM_PAGE);
    // A component compiled before is known by its digest: it was read and checked then, so an
    // app start from it hashes the bytes and parses nothing.
    const hit = maxMemoryPages >= 1 && bytes.length <= MAX_COMPONENT_BYTES ? this.compiled.get(`${sha256Digest(bytes)}/${maxMemoryPages}`) : undefined;
    if (hit) {
      this.counters.memoryHits++;
      return hit;
    }
    const info = inspectComponent(bytes);
    if (maxMemoryPages < 1) throw new BerthError('memory-limit', `a memory limit of ${options.memoryLimitBytes} bytes is below one 64 KiB page`);
    const key = `${info.digest}/${maxMemoryPages}`;
    const pending = this.compileUncached(bytes, info, maxMemoryPages);
    this.compiled.set(key, pending);
    // A failed compile is not cached: the same bytes fail the same way, but a transient
    // disk error should not stick.
    pending.catch(() => this.compiled.delete(key));
    return pending;
  }

  /** Drops compiled modules of components no longer deployed (they hold executable memory). */
  evict(digest: string): void {
    for (const key of this.compiled.keys()) if (key.startsWith(`${digest}/`)) this.compiled.delete(key);
  }

  prune(keep: ReadonlySet<Digest>): number {
    return this.cache.prune(keep);
  }

  private async compileUncached(bytes: Uint8Array, info: ComponentInfo, maxMemoryPages: number): Promise<JcoCompiled> {
    const transpiled = await this.transpiled(bytes, info);
    const modules: Record<string, WebAssembly.Module> = {};
    const tableEntries: Record<string, number> = {};
    const tableCap = tableCapOf(Object.values(transpiled.coreFiles));
    const memoryCap = memoryCapOf(transpiled.coreFiles, maxMemoryPages);
    for (const [name, file] of Object.entries(transpiled.coreFiles)) {
      ({ module: modules[name], tableEntries: tableEntries[name] } = await compileCoreFile(
        file,
        name,
        memoryCap,
        tableCap,
        `core module ${name} of ${info.digest}`,
      ));
      this.counters.compiles++;
    }
    const glueScript = transpiled.glueScript ? { glueScript: transpiled.glueScript, ...warmCodeCache(transpiled.glueScript, modules) } : {};
    const artifact: JcoArtifact = {
      engine: 'jco',
      glueUrl: pathToFileURL(transpiled.glueFile).href,
      ...glueScript,
      modules,
      memoryCap,
      tableCap,
      tableEntries,
      coreFiles: transpiled.coreFiles,
    };
    return { engine: 'jco', engineName: this.name, digest: info.digest, info, maxMemoryPages, artifact };
  }

  private async transpiled(bytes: Uint8Array, info: ComponentInfo): Promise<TranspiledComponent> {
    const cached = this.cache.read(info.digest);
    if (cached) {
      this.counters.diskHits++;
      return cached;
    }
    const { transpile } = await importOptional<typeof import('@bytecodealliance/jco')>(JCO);
    let files: Record<string, Uint8Array>;
    try {
      ({ files } = await withJcoTools(() => transpile(bytes, { name: GLUE_NAME, instantiation: 'sync', noTypescript: true, quiet: true })));
    } catch (err) {
      throw new BerthError('malformed-component', `component ${info.digest} was refused by the transpiler: ${errorMessage(err)}`);
    }
    this.counters.transpiles++;
    const generated = files[`${GLUE_NAME}.js`];
    if (!generated) throw new BerthError('malformed-component', `transpiling ${info.digest} produced no glue module`);
    if (generated.length > MAX_GLUE_BYTES) {
      throw new BerthError(
        'glue-limit',
        `transpiling ${info.digest} produced ${(generated.length / 2 ** 20).toFixed(1)} MiB of glue, over the limit of ${MAX_GLUE_BYTES / 2 ** 20} MiB (deeply nested types written out at every use)`,
      );
    }
    const glue = new TextEncoder().encode(patchGlue(new TextDecoder().decode(generated)));
    const core = Object.fromEntries(Object.entries(files).filter(([name]) => name.endsWith('.wasm')));
    return this.cache.write(info.digest, glue, core);
  }
}

/**
 * V8's code cache of the glue script after a warm-up against stand-ins (which runs jco's glue,
 * never the component's code: sandbox/warm-up.ts), made once per component here and handed to
 * every sandbox thread that loads it (glue-loader.ts). None when anything fails: threads then
 * compile the glue themselves.
 */
function warmCodeCache(glueScript: string, modules: Record<string, WebAssembly.Module>): { glueCodeCache?: Uint8Array } {
  try {
    const { glue, script } = loadGlueScript(glueScript);
    warmUpGlue(glue, modules);
    return { glueCodeCache: new Uint8Array(script.createCachedData()) };
  } catch {
    return {};
  }
}
