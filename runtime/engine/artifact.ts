import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompiledComponent } from './engine.js';
import { jcoArtifactFiles, jcoArtifactForThread, type JcoArtifact } from './jco/artifact.js';
import { compileCoreFile } from './jco/core-module.js';
import { wasmtimeArtifactFiles, type WasmtimeArtifact } from './wasmtime/artifact.js';

type Artifact = CompiledComponent['artifact'];

/** What names an artifact among those a thread has been sent. */
export function artifactKey(artifact: Artifact): string {
  return artifact.engine === 'jco' ? artifact.glueUrl : artifact.path;
}

/** The artifact as sent to a thread: what a thread keeps once loaded crosses only the first time. */
export function artifactForThread(artifact: Artifact, firstInThread: boolean): Artifact {
  return artifact.engine === 'jco' ? jcoArtifactForThread(artifact, firstInThread) : artifact;
}

/** Files a sandbox in another process must be able to read to load it. */
export function artifactFiles(artifact: Artifact): string[] {
  return artifact.engine === 'jco' ? jcoArtifactFiles(artifact) : wasmtimeArtifactFiles(artifact);
}

/** Whether the engine stops a guest past its deadline inside its thread (Wasmtime's epochs); V8 cannot. */
export function interruptsInThread(artifact: Artifact): boolean {
  return artifact.engine === 'wasmtime';
}

/** A compiled component as it can cross a process boundary: compiled V8 modules cannot. */
export type PortableArtifact = Omit<JcoArtifact, 'modules'> | Omit<WasmtimeArtifact, 'epochActive'>;
export type PortableCompiled = Omit<CompiledComponent, 'artifact'> & { artifact: PortableArtifact };

export function portableCompiled(compiled: CompiledComponent): PortableCompiled {
  if (compiled.artifact.engine === 'wasmtime') {
    // Another process makes its own engine and epoch ticker (wasmtime/thread-loader.ts).
    const { epochActive: _thisProcess, ...artifact } = compiled.artifact;
    return { ...compiled, artifact };
  }
  const { modules: _notPortable, ...artifact } = compiled.artifact;
  return { ...compiled, artifact };
}

/** In the other process: the component as the sandbox needs it, jco's core modules compiled again. */
export async function revivedCompiled(portable: PortableCompiled): Promise<CompiledComponent> {
  const artifact = portable.artifact;
  if (artifact.engine === 'wasmtime') return { ...portable, artifact: { ...artifact, epochActive: new SharedArrayBuffer(8) } };
  const modules: Record<string, WebAssembly.Module> = {};
  for (const [name, file] of Object.entries(artifact.coreFiles)) {
    // The parent's caps, so that both sides count the same entries per module.
    modules[name] = (await compileCoreFile(file, name, artifact.memoryCap, artifact.tableCap, `core module ${name} of ${portable.digest}`)).module;
  }
  return { ...portable, artifact: { ...artifact, modules } };
}

/** Where the FFI package and its native part live, for a sandbox process that must read them. */
export function koffiDirs(): string[] {
  const koffi = dirname(createRequire(import.meta.url).resolve('koffi'));
  // koffi 3 keeps its native part in a package per platform, installed beside it.
  const native = join(koffi, '..', '@koromix', `koffi-${process.platform}-${process.arch}`);
  const dirs = existsSync(native) ? [koffi, native] : [koffi];
  return [...new Set(dirs.flatMap((d) => [d, realpathSync(d)]))];
}
