import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { WasmtimeLibraryPin } from './pin.js';
import { runTool } from './run-tool.js';

// Finds the package without importing it: importing `wasmtime` would load its library before
// Berth has checked the library's hash.
const PROBE = [
  'import importlib.util, importlib.metadata, json',
  "spec = importlib.util.find_spec('wasmtime')",
  'version = None',
  'if spec is not None:',
  '    try: version = importlib.metadata.version("wasmtime")',
  '    except Exception: pass',
  'print(json.dumps({"origin": spec.origin if spec else None, "version": version}))',
].join('\n');

export type PythonLibrary = { path: string } | { missing: string };

/** Where an installed Python `wasmtime` package of the pinned version keeps its library. */
export async function pythonPackageLibrary(python: string, env: NodeJS.ProcessEnv, pin: WasmtimeLibraryPin): Promise<PythonLibrary> {
  const probe = await runTool(python, ['-c', PROBE], env, 30_000);
  if (!probe.ok) return { missing: probe.notFound ? `${python} is not installed` : `${python} could not look for the wasmtime package: ${probe.message}` };
  let found: { origin: string | null; version: string | null };
  try {
    found = JSON.parse(probe.stdout.trim().split('\n').pop() ?? '') as typeof found;
  } catch {
    return { missing: `${python} gave no answer about the wasmtime package` };
  }
  if (!found.origin) return { missing: `the Python package wasmtime is not installed for ${python}` };
  if (found.version !== pin.version)
    return { missing: `the Python package wasmtime is ${found.version ?? 'of an unknown version'}, Berth pins ${pin.version}` };
  const path = join(dirname(found.origin), ...pin.libraryInWheel.split('/').slice(1));
  if (!existsSync(path)) return { missing: `the Python package wasmtime ${pin.version} has no ${path}` };
  return { path };
}
