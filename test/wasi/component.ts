import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpile } from '@bytecodealliance/jco';

/** A component transpiled by jco (sync instantiation), ready to instantiate with host imports. */
export interface Transpiled {
  /** Interfaces the component imports, version stripped, as jco's glue looks them up. */
  imports: string[];
  instantiate(imports: Record<string, unknown>): Record<string, any>;
  dispose(): Promise<void>;
}

type InstantiateFn = (getCoreModule: (path: string) => WebAssembly.Module, imports: Record<string, unknown>) => Record<string, any>;

export async function transpileComponent(name: string, bytes: Uint8Array): Promise<Transpiled> {
  const out = await transpile(bytes, { name, instantiation: 'sync', noTypescript: true });
  const dir = await mkdtemp(join(tmpdir(), `berth-wasi-component-${name}-`));
  const cores = new Map<string, Uint8Array>();
  for (const [file, content] of Object.entries(out.files)) {
    if (file.includes('/')) continue;
    await writeFile(join(dir, file), content);
    if (file.endsWith('.wasm')) cores.set(file, content);
  }
  const { instantiate } = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as { instantiate: InstantiateFn };
  return {
    imports: [...out.imports],
    instantiate: (imports) =>
      instantiate((path) => {
        const core = cores.get(path);
        if (!core) throw new Error(`${name} has no core module ${path}`);
        return new WebAssembly.Module(core);
      }, imports),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
